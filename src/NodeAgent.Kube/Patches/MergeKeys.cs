namespace NodeAgent.Kube.Patches;

/// <summary>
/// The <c>patchMergeKey</c>/<c>patchStrategy:"merge"</c> tags of the core types the node writes (k8s.io/api/core/v1
/// types.go): which lists a strategic merge patch merges element-wise and by which key. Paths leave out list
/// indices; "" marks a list of scalars merged as a set. Lists not named here are replaced whole.
/// </summary>
public static class MergeKeys
{
    private static readonly Dictionary<string, string> Keys = Build();

    public static bool TryGet(string path, out string key) => Keys.TryGetValue(path, out key!);

    private static Dictionary<string, string> Build()
    {
        var keys = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["metadata.ownerReferences"] = "uid",
            ["metadata.finalizers"] = "",
            ["spec.volumes"] = "name",
            ["spec.imagePullSecrets"] = "name",
            ["spec.hostAliases"] = "ip",
            ["spec.topologySpreadConstraints"] = "topologyKey",
            ["spec.schedulingGates"] = "name",
            ["spec.resourceClaims"] = "name",
            ["spec.podCIDRs"] = "",
            ["spec.ports"] = "port",
            ["status.conditions"] = "type",
            ["status.addresses"] = "type",
            ["status.podIPs"] = "ip",
            ["status.hostIPs"] = "ip",
        };
        foreach (var c in new[] { "spec.containers", "spec.initContainers", "spec.ephemeralContainers" })
        {
            keys[c] = "name";
            keys[c + ".ports"] = "containerPort";
            keys[c + ".env"] = "name";
            keys[c + ".volumeMounts"] = "mountPath";
            keys[c + ".volumeDevices"] = "devicePath";
        }
        return keys;
    }
}
