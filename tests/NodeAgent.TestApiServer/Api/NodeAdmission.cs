using System.Text.Json.Nodes;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// The NodeRestriction admission plugin (plugin/pkg/admission/noderestriction): a node creates only mirror pods bound
/// to itself, deletes and updates status only of pods bound to itself, writes only its own Node (without changing
/// taints or restricted labels), and its own Lease.
/// </summary>
public static class NodeAdmission
{
    private const string MirrorAnnotation = "kubernetes.io/config.mirror";

    private static readonly string[] AllowedKubernetesLabels =
    [
        "kubernetes.io/hostname", "kubernetes.io/arch", "kubernetes.io/os", "beta.kubernetes.io/arch", "beta.kubernetes.io/os",
        "beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type", "failure-domain.beta.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone", "topology.kubernetes.io/region", "topology.kubernetes.io/zone",
    ];

    /// <summary>Checks a write by <paramref name="user"/>; <paramref name="old"/> is the stored object (null on create), <paramref name="updated"/> the result (null on delete).</summary>
    public static void Admit(UserInfo user, RequestInfo r, JsonObject? old, JsonObject? updated, Func<string, string?> nodeUid)
    {
        if (user.NodeName is not { } node || r.Resource.Group.Length != 0)
        {
            return;
        }
        switch (r.Resource.Plural, r.Subresource, r.Verb)
        {
            case ("pods", null, "create"):
                AdmitMirrorPod(node, r, updated!, nodeUid);
                break;
            case ("pods", null, "delete"):
                if (NodeOf(old) != node)
                {
                    throw ApiError.Forbidden(r.Resource, r.Name, $"node \"{node}\" can only delete pods with spec.nodeName set to itself");
                }
                break;
            case ("pods", "status", _):
                if (NodeOf(old) != node)
                {
                    throw ApiError.Forbidden(r.Resource, r.Name, $"node \"{node}\" can only update pod status for pods with spec.nodeName set to itself");
                }
                if (!JsonNode.DeepEquals(old?["metadata"]?["labels"], updated?["metadata"]?["labels"]))
                {
                    throw ApiError.Forbidden(r.Resource, r.Name, $"node \"{node}\" cannot update labels through pod status");
                }
                break;
            case ("pods", "eviction", _):
                if (NodeOf(old) != node)
                {
                    throw ApiError.Forbidden(r.Resource, r.Name, $"node \"{node}\" can only evict pods with spec.nodeName set to itself");
                }
                break;
            case ("nodes", _, _):
                AdmitNode(node, r, old, updated);
                break;
        }
    }

    private static string? NodeOf(JsonObject? pod) => pod?["spec"]?["nodeName"]?.ToString();

    private static void AdmitMirrorPod(string node, RequestInfo r, JsonObject pod, Func<string, string?> nodeUid)
    {
        var name = pod["metadata"]?["name"]?.ToString();
        if (pod["metadata"]?["annotations"]?[MirrorAnnotation] is null)
        {
            throw ApiError.Forbidden(r.Resource, name, $"pod does not have \"{MirrorAnnotation}\" annotation, node \"{node}\" can only create mirror pods");
        }
        if (NodeOf(pod) != node)
        {
            throw ApiError.Forbidden(r.Resource, name, $"node \"{node}\" can only create pods with spec.nodeName set to itself");
        }
        var owners = (pod["metadata"]?["ownerReferences"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        if (owners.Count != 1)
        {
            throw ApiError.Forbidden(r.Resource, name, $"node \"{node}\" can only create pods with a single owner reference set to itself");
        }
        var owner = owners[0];
        if (owner["controller"].AsBool() != true || owner["apiVersion"]?.ToString() != "v1" || owner["kind"]?.ToString() != "Node"
            || owner["name"]?.ToString() != node)
        {
            throw ApiError.Forbidden(r.Resource, name, $"node \"{node}\" can only create pods with a controller owner reference set to itself");
        }
        if (owner["uid"]?.ToString() != nodeUid(node))
        {
            throw ApiError.Forbidden(r.Resource, name, $"node {node} UID mismatch");
        }
        var spec = pod["spec"] as JsonObject;
        if (spec?["serviceAccountName"]?.ToString() is { Length: > 0 })
        {
            throw ApiError.Forbidden(r.Resource, name, $"node \"{node}\" can not create pods that reference a service account");
        }
        foreach (var v in (spec?["volumes"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (v["secret"] is not null || v["configMap"] is not null || v["persistentVolumeClaim"] is not null || v["projected"] is not null)
            {
                throw ApiError.Forbidden(r.Resource, name, $"node \"{node}\" can not create pods that reference secrets, configmaps or persistentvolumeclaims");
            }
        }
    }

    private static void AdmitNode(string node, RequestInfo r, JsonObject? old, JsonObject? updated)
    {
        var target = r.Name ?? updated?["metadata"]?["name"]?.ToString();
        if (target != node)
        {
            throw ApiError.Forbidden(r.Resource, target, $"node \"{node}\" is not allowed to modify node \"{target}\"");
        }
        if (old is not null && updated is not null && !JsonNode.DeepEquals(old["spec"]?["taints"], updated["spec"]?["taints"]))
        {
            throw ApiError.Forbidden(r.Resource, target, $"node \"{node}\" is not allowed to modify taints");
        }
        var before = old?["metadata"]?["labels"] as JsonObject ?? [];
        var after = updated?["metadata"]?["labels"] as JsonObject ?? [];
        var changed = after.Where(kv => before[kv.Key]?.ToString() != kv.Value?.ToString()).Select(kv => kv.Key)
            .Concat(before.Where(kv => !after.ContainsKey(kv.Key)).Select(kv => kv.Key));
        var forbidden = changed.Where(IsRestrictedLabel).Order(StringComparer.Ordinal).ToList();
        if (forbidden.Count > 0)
        {
            throw ApiError.Forbidden(r.Resource, target, $"is not allowed to modify labels: {string.Join(", ", forbidden)}");
        }
    }

    private static bool IsRestrictedLabel(string key)
    {
        var slash = key.IndexOf('/');
        if (slash < 0)
        {
            return false;
        }
        var ns = key[..slash];
        if (ns == "node-restriction.kubernetes.io" || ns.EndsWith(".node-restriction.kubernetes.io", StringComparison.Ordinal))
        {
            return true;
        }
        var isK8s = ns is "kubernetes.io" or "k8s.io" || ns.EndsWith(".kubernetes.io", StringComparison.Ordinal) || ns.EndsWith(".k8s.io", StringComparison.Ordinal);
        if (!isK8s || AllowedKubernetesLabels.Contains(key))
        {
            return false;
        }
        return !(ns is "kubelet.kubernetes.io" or "node.kubernetes.io" || ns.EndsWith(".kubelet.kubernetes.io", StringComparison.Ordinal)
            || ns.EndsWith(".node.kubernetes.io", StringComparison.Ordinal));
    }
}
