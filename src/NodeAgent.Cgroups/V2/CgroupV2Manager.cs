namespace NodeAgent.Cgroups.V2;

/// <summary>
/// cgroup v2 (unified hierarchy). Controllers a cgroup needs are enabled in every ancestor's
/// <c>cgroup.subtree_control</c> (from the mount root down) where the parent offers them.
/// </summary>
public sealed class CgroupV2Manager : ICgroupManager
{
    /// <summary>Controllers enabled for children when the parent offers them.</summary>
    public static readonly IReadOnlyList<string> WantedControllers = ["cpuset", "cpu", "io", "memory", "pids"];

    /// <param name="mountRoot">The cgroup2 mount (<c>/sys/fs/cgroup</c> on a pure v2 host) or a fixture directory laid out like one.</param>
    /// <param name="rootPrefix">A path under the mount that all cgroups of this manager live in ("" in production).</param>
    public CgroupV2Manager(string mountRoot = "/sys/fs/cgroup", string rootPrefix = "")
    {
        MountRoot = mountRoot.TrimEnd('/');
        if (!File.Exists(Path.Combine(MountRoot, "cgroup.controllers")))
        {
            throw new CgroupException($"cgroup v2 at {MountRoot}: cgroup.controllers not found, not a cgroup2 hierarchy");
        }

        RootPrefix = rootPrefix.Trim('/');
        Root = RootPrefix.Length == 0 ? MountRoot : Path.Combine(MountRoot, RootPrefix);
    }

    public CgroupVersion Version => CgroupVersion.V2;

    public Stats.ICgroupStatsReader CreateStatsReader() => new Stats.CgroupV2StatsReader(Root, RootPrefix);

    public string MountRoot { get; }

    public string RootPrefix { get; }

    /// <summary>The directory this manager's relative paths start from.</summary>
    public string Root { get; }

    public ICgroup CreateOrUpdate(string relativePath, CgroupResources resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        string rel = V1.CgroupV1Manager.Normalize(relativePath);
        string underMount = RootPrefix.Length == 0 ? rel : RootPrefix + "/" + rel;
        string parent = MountRoot;
        foreach (string part in underMount.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            EnableControllers(rel, parent);
            string dir = Path.Combine(parent, part);
            CgroupFs.MakeDirs(rel, parent, part, null);
            parent = dir;
        }

        var cgroup = new CgroupV2(rel, Dir(rel));
        cgroup.Apply(resources);
        return cgroup;
    }

    public ICgroup? Open(string relativePath)
    {
        string rel = V1.CgroupV1Manager.Normalize(relativePath);
        string dir = Dir(rel);
        return Directory.Exists(dir) ? new CgroupV2(rel, dir) : null;
    }

    public void Remove(string relativePath)
    {
        string rel = V1.CgroupV1Manager.Normalize(relativePath);
        if (rel.Length == 0 && RootPrefix.Length == 0)
        {
            throw new ArgumentException("refusing to remove the root of the cgroup hierarchy", nameof(relativePath));
        }

        string dir = Dir(rel);
        if (!Directory.Exists(dir))
        {
            return;
        }

        bool hasKill = File.Exists(Path.Combine(dir, "cgroup.kill"));
        bool hasFreeze = File.Exists(Path.Combine(dir, "cgroup.freeze"));
        CgroupTree.KillAndRemove(
            rel,
            [dir],
            () =>
            {
                if (hasKill)
                {
                    // Kills the whole subtree atomically, forks included (Linux 5.14+).
                    CgroupFs.TryWrite(dir, "cgroup.kill", "1", out _);
                }
                else if (hasFreeze)
                {
                    CgroupFs.TryWrite(dir, "cgroup.freeze", "1", out _);
                }
            },
            hasFreeze && !hasKill ? () => CgroupFs.TryWrite(dir, "cgroup.freeze", "0", out _) : null);
    }

    private string Dir(string rel) => rel.Length == 0 ? Root : Path.Combine(Root, rel);

    private static void EnableControllers(string cgroup, string parent)
    {
        string? available = CgroupFs.ReadOptional(parent, "cgroup.controllers");
        string? enabled = CgroupFs.ReadOptional(parent, "cgroup.subtree_control");
        if (available is null || enabled is null)
        {
            return;
        }

        var have = new HashSet<string>(enabled.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(c => c.TrimStart('+')), StringComparer.Ordinal);
        var offered = new HashSet<string>(available.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
        var missing = WantedControllers.Where(c => offered.Contains(c) && !have.Contains(c)).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        string value = string.Join(' ', missing.Select(c => "+" + c));
        if (!CgroupFs.TryWrite(parent, "cgroup.subtree_control", value, out int errno))
        {
            throw CgroupFs.Error(cgroup, $"writing {Path.Combine(parent, "cgroup.subtree_control")} = \"{value}\"", errno);
        }
    }
}
