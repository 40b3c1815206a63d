using System.Text.Json.Nodes;
using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// Authorization: <c>system:masters</c> may do anything; a node identity gets what the Node authorizer and the
/// <c>system:node</c> rules grant (kubernetes plugin/pkg/auth/authorizer/rbac/bootstrappolicy NodeRules, node
/// authorizer: secrets/configmaps only when a pod bound to the node references them, leases only its own);
/// everyone else nothing. Denials carry the real server's message.
/// </summary>
public sealed class Authorizer(ObjectStore store)
{
    private static readonly Dictionary<string, string[]> NodeRules = new(StringComparer.Ordinal)
    {
        ["nodes"] = ["create", "get", "list", "watch", "update", "patch"],
        ["nodes/status"] = ["update", "patch"],
        ["pods"] = ["get", "list", "watch", "create", "delete"],
        ["pods/status"] = ["update", "patch"],
        ["pods/eviction"] = ["create"],
        ["events"] = ["create", "update", "patch"],
        ["services"] = ["get", "list", "watch"],
        ["serviceaccounts/token"] = ["create"],
    };

    public void Authorize(UserInfo user, RequestInfo request, FieldSelector fields)
    {
        if (user.IsAdmin)
        {
            return;
        }
        string? why = null;
        if (user.NodeName is { } node && AllowNode(node, request, fields, out why))
        {
            return;
        }
        throw Deny(user, request, why);
    }

    private bool AllowNode(string node, RequestInfo r, FieldSelector fields, out string? why)
    {
        why = null;
        var group = r.Resource.Group;
        if (group == "coordination.k8s.io" && r.Resource.Plural == "leases")
        {
            if (r.Verb is "get" or "create" or "update" or "patch" or "delete" && r.Namespace == "kube-node-lease" && (r.Name == node || (r.Verb == "create" && r.Name is null)))
            {
                return true;
            }
            why = "can only access node lease with the same name as the requesting node";
            return false;
        }
        if (group == "certificates.k8s.io" && r.Resource.Plural == "certificatesigningrequests" && r.Subresource is null)
        {
            // system:node-bootstrapper and the selfnodeclient rules: nodes file and follow their own CSRs.
            return r.Verb is "create" or "get" or "list" or "watch";
        }
        if (group == "authentication.k8s.io" && r.Resource.Plural == "tokenreviews")
        {
            return r.Verb == "create";
        }
        if (group.Length == 0 && r.Resource.Plural is "secrets" or "configmaps")
        {
            var name = r.Verb == "get" ? r.Name : r.Verb is "list" or "watch" ? fields.RequiredValue("metadata.name") : null;
            if (name is not null && r.Namespace is not null && ReferencedByPodOn(node, r.Resource.Plural, r.Namespace, name))
            {
                return true;
            }
            why = $"no relationship found between node '{node}' and this object";
            return false;
        }
        return group.Length == 0 && NodeRules.TryGetValue(r.RbacResource, out var verbs) && verbs.Contains(r.Verb);
    }

    private bool ReferencedByPodOn(string node, string plural, string ns, string name)
    {
        var (pods, _) = store.List("pods", ns, p => p["spec"]?["nodeName"]?.ToString() == node);
        return pods.Any(p => References(p.Parse(), plural, name));
    }

    private static bool References(JsonObject pod, string plural, string name)
    {
        var spec = pod["spec"] as JsonObject;
        if (spec is null)
        {
            return false;
        }
        var names = new List<string?>();
        var isSecret = plural == "secrets";
        if (isSecret)
        {
            names.AddRange((spec["imagePullSecrets"] as JsonArray ?? []).Select(s => s?["name"]?.ToString()));
        }
        foreach (var v in (spec["volumes"] as JsonArray ?? []).OfType<JsonObject>())
        {
            names.Add(isSecret ? v["secret"]?["secretName"]?.ToString() : v["configMap"]?["name"]?.ToString());
            foreach (var s in (v["projected"]?["sources"] as JsonArray ?? []).OfType<JsonObject>())
            {
                names.Add(s[isSecret ? "secret" : "configMap"]?["name"]?.ToString());
            }
        }
        foreach (var c in new[] { "containers", "initContainers", "ephemeralContainers" }.SelectMany(k => (spec[k] as JsonArray ?? []).OfType<JsonObject>()))
        {
            foreach (var e in (c["env"] as JsonArray ?? []).OfType<JsonObject>())
            {
                names.Add(e["valueFrom"]?[isSecret ? "secretKeyRef" : "configMapKeyRef"]?["name"]?.ToString());
            }
            foreach (var e in (c["envFrom"] as JsonArray ?? []).OfType<JsonObject>())
            {
                names.Add(e[isSecret ? "secretRef" : "configMapRef"]?["name"]?.ToString());
            }
        }
        return names.Contains(name);
    }

    private static ApiError Deny(UserInfo user, RequestInfo r, string? why)
    {
        var scope = r.Resource.Namespaced && r.Namespace is not null ? $"in the namespace \"{r.Namespace}\"" : "at the cluster scope";
        var message = $"User \"{user.Name}\" cannot {r.Verb} resource \"{r.RbacResource}\" in API group \"{r.Resource.Group}\" {scope}";
        if (why is not null)
        {
            message += ": " + why;
        }
        return ApiError.Forbidden(r.Resource, r.Name, message);
    }

    /// <summary>The message for a non-resource path (discovery is open to every authenticated user).</summary>
    public static ApiError DenyPath(UserInfo user, string verb, string path) =>
        new(403, "Forbidden", $"forbidden: User \"{user.Name}\" cannot {verb} path \"{path}\"");
}
