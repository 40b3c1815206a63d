namespace NodeAgent.Cgroups;

/// <summary>Picks the cgroup driver for this host: v2 when /sys/fs/cgroup is the unified hierarchy, v1 otherwise.</summary>
public static class CgroupManagerFactory
{
    public static ICgroupManager Detect(string rootPrefix = "", string mountRoot = "/sys/fs/cgroup")
    {
        if (File.Exists(Path.Combine(mountRoot, "cgroup.controllers")))
        {
            return new CgroupV2Manager(mountRoot, rootPrefix);
        }

        var mounts = CgroupV1Manager.DiscoverMounts();
        if (mounts.Count == 0)
        {
            throw new CgroupException($"no cgroup hierarchy found: neither cgroup2 at {mountRoot} nor cgroup v1 controllers are mounted");
        }

        return new CgroupV1Manager(mounts, rootPrefix);
    }
}
