using System.Text.Json.Nodes;
using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// Authorization: <c>system:masters</c> may do anything; a node identity gets what the Node authorizer and the
/// <c>system:node</c> rules grant (kubernetes plugin/pkg/auth/authorizer/rbac/bootstrappolicy NodeRules, node
/// authorizer: secrets/configmaps only when a pod bound to the node references them, leases only its own);
/// <c>system:kube-proxy</c> what <c>system:node-proxier</c> grants; bootstrap-token users (group <c>system:bootstrappers</c>) what <c>system:node-bootstrapper</c> grants (CSRs);
/// every authenticated user what <c>system:basic-user</c> and <c>system:discovery</c> grant (self reviews,
/// discovery paths); everyone else nothing. Requests and SubjectAccessReviews are judged by <see cref="Decide"/>
/// alike. Denials carry the real server's message.
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

    /// <summary>
    /// <c>system:node-proxier</c> (bootstrap policy), which the default binding of the same name grants the user
    /// <c>system:kube-proxy</c>: what a service proxy reads, and its events. Keyed by (group, resource).
    /// </summary>
    private static readonly Dictionary<(string Group, string Resource), string[]> ProxierRules = new()
    {
        [("", "services")] = ["list", "watch"],
        [("", "endpoints")] = ["list", "watch"],
        [("", "nodes")] = ["get", "list", "watch"],
        [("", "events")] = ["create", "update", "patch"],
        [("events.k8s.io", "events")] = ["create", "update", "patch"],
        [("discovery.k8s.io", "endpointslices")] = ["list", "watch"],
    };

    /// <summary>The user the <c>system:node-proxier</c> binding names.</summary>
    public const string KubeProxyUser = "system:kube-proxy";

    /// <summary>Non-resource paths system:discovery and system:public-info-viewer open to every authenticated user.</summary>
    private static readonly string[] DiscoveryPaths = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/readyz", "/version", "/version/", "/openapi", "/openapi/*"];

    /// <summary>An authorizer's answer: allowed or not, and why not when a rule says so.</summary>
    public readonly record struct Decision(bool Allowed, string Reason);

    public void Authorize(UserInfo user, RequestInfo request, FieldSelector fields)
    {
        var decision = Decide(user, AccessAttributes.For(request, fields));
        if (!decision.Allowed)
        {
            throw Deny(user, request, decision.Reason);
        }
    }

    /// <summary>The decision for <paramref name="a"/> by <paramref name="user"/>: the same for a request and for a SubjectAccessReview.</summary>
    public Decision Decide(UserInfo user, AccessAttributes a)
    {
        if (user.IsAdmin)
        {
            return new(true, "");
        }
        if (!a.IsResourceRequest)
        {
            var open = a.Verb == "get" && user.Groups.Contains("system:authenticated") && DiscoveryPaths.Any(p => p.EndsWith('*') ? a.Path!.StartsWith(p[..^1], StringComparison.Ordinal) : a.Path == p);
            return new(open, "");
        }
        if (user.Groups.Contains("system:authenticated") && a.Verb == "create" && a.Subresource is null or ""
            && ((a.Group == "authorization.k8s.io" && a.Resource is "selfsubjectaccessreviews" or "selfsubjectrulesreviews")
                || (a.Group == "authentication.k8s.io" && a.Resource == "selfsubjectreviews")))
        {
            return new(true, "");
        }
        if (user.Groups.Contains("system:bootstrappers") && a.Group == "certificates.k8s.io" && a.Resource == "certificatesigningrequests"
            && a.Subresource is null or "" && a.Verb is "create" or "get" or "list" or "watch")
        {
            return new(true, "");
        }
        if (user.Name == KubeProxyUser && a.Subresource is null or "" && ProxierRules.TryGetValue((a.Group, a.RbacResource), out var proxier) && proxier.Contains(a.Verb))
        {
            return new(true, "");
        }
        if (user.Name == KubeletProxy.ClientUser && a.Group.Length == 0 && a.Resource == "nodes"
            && (a.Subresource is "proxy" or "log" or "metrics" or "stats" or "healthz" or "pods" or "configz" or "checkpoint"
                || (a.Subresource is null or "" && a.Verb is "get" or "list" or "watch" or "proxy")))
        {
            // kubeadm binds its kubelet client to system:kubelet-api-admin: every kubelet API subresource of nodes.
            return new(true, "");
        }
        string? why = null;
        if (user.NodeName is { } node && AllowNode(node, a, out why))
        {
            return new(true, "");
        }
        return new(false, why ?? "");
    }

    private bool AllowNode(string node, AccessAttributes a, out string? why)
    {
        why = null;
        var group = a.Group;
        if (group == "coordination.k8s.io" && a.Resource == "leases" && a.Subresource is null or "")
        {
            if (a.Verb is "get" or "create" or "update" or "patch" or "delete" && a.Namespace == "kube-node-lease" && (a.Name == node || (a.Verb == "create" && a.Name is null or "")))
            {
                return true;
            }
            why = "can only access node lease with the same name as the requesting node";
            return false;
        }
        if (group == "certificates.k8s.io" && a.Resource == "certificatesigningrequests" && a.Subresource is null or "")
        {
            // system:node-bootstrapper and the selfnodeclient rules: nodes file and follow their own CSRs.
            return a.Verb is "create" or "get" or "list" or "watch";
        }
        if (group == "authentication.k8s.io" && a.Resource == "tokenreviews" && a.Subresource is null or "")
        {
            return a.Verb == "create";
        }
        if (group == "authorization.k8s.io" && a.Resource is "subjectaccessreviews" or "localsubjectaccessreviews" && a.Subresource is null or "")
        {
            // NodeRules: "Needed to check API access" (the kubelet's webhook authorizer asks on behalf of its callers).
            return a.Verb == "create";
        }
        if (group.Length == 0 && a.Resource is "secrets" or "configmaps" && a.Subresource is null or "")
        {
            var name = a.Verb == "get" ? a.Name : a.Verb is "list" or "watch" ? a.SelectedName : null;
            if (!string.IsNullOrEmpty(name) && !string.IsNullOrEmpty(a.Namespace) && ReferencedByPodOn(node, a.Resource, a.Namespace, name))
            {
                return true;
            }
            why = $"no relationship found between node '{node}' and this object";
            return false;
        }
        return group.Length == 0 && NodeRules.TryGetValue(a.RbacResource, out var verbs) && verbs.Contains(a.Verb);
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
        why = string.IsNullOrEmpty(why) ? null : why;
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
