namespace NodeAgent.Cgroups.Stats;

/// <summary>cAdvisor's container name for a cgroup: its path from the hierarchy root with a leading slash.</summary>
internal static class CgroupId
{
    public static string Of(string rootPrefix, string relativePath)
    {
        string rel = V1.CgroupV1Manager.Normalize(relativePath);
        string prefix = rootPrefix.Trim('/');
        return (prefix.Length, rel.Length) switch
        {
            (0, 0) => "/",
            (0, _) => "/" + rel,
            (_, 0) => "/" + prefix,
            _ => "/" + prefix + "/" + rel,
        };
    }
}
