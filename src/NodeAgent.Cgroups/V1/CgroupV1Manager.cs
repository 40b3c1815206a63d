namespace NodeAgent.Cgroups.V1;

/// <summary>
/// cgroup v1 (legacy or hybrid hosts): one directory per cgroup in every controller hierarchy kubelet's
/// cgroupfs driver uses. Controllers may be mounted separately (<c>/sys/fs/cgroup/cpu</c>, <c>.../cpuacct</c>)
/// or co-mounted (<c>/sys/fs/cgroup/cpu,cpuacct</c>); each distinct mount is one hierarchy.
/// </summary>
public sealed class CgroupV1Manager : ICgroupManager
{
    /// <summary>The controllers kubelet's cgroupfs driver places pods in, in the order they are set up.</summary>
    public static readonly IReadOnlyList<string> KnownControllers = ["cpuset", "cpu", "cpuacct", "memory", "pids", "blkio", "devices", "freezer"];

    private readonly Dictionary<string, string> _controllerRoots;
    private readonly Dictionary<string, string> _mounts;

    /// <param name="controllerMounts">Controller name → mount point of its hierarchy (co-mounted controllers share one).</param>
    /// <param name="rootPrefix">A path under every hierarchy root that all cgroups of this manager live in ("" in production).</param>
    public CgroupV1Manager(IReadOnlyDictionary<string, string> controllerMounts, string rootPrefix = "")
    {
        ArgumentNullException.ThrowIfNull(controllerMounts);
        RootPrefix = rootPrefix.Trim('/');
        _controllerRoots = new Dictionary<string, string>(StringComparer.Ordinal);
        _mounts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string controller in KnownControllers)
        {
            if (controllerMounts.TryGetValue(controller, out string? mount) && Directory.Exists(mount))
            {
                _mounts[controller] = mount;
                _controllerRoots[controller] = RootPrefix.Length == 0 ? mount : Path.Combine(mount, RootPrefix);
            }
        }

        if (_controllerRoots.Count == 0)
        {
            throw new CgroupException("cgroup v1: none of the controllers " + string.Join(", ", KnownControllers) + " is mounted");
        }
    }

    public CgroupVersion Version => CgroupVersion.V1;

    public Stats.ICgroupStatsReader CreateStatsReader() => new Stats.CgroupV1StatsReader(_controllerRoots, RootPrefix);

    public string RootPrefix { get; }

    /// <summary>Controller → directory under which this manager's cgroups are created.</summary>
    public IReadOnlyDictionary<string, string> ControllerRoots => _controllerRoots;

    public ICgroup CreateOrUpdate(string relativePath, CgroupResources resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        string rel = Normalize(relativePath);
        string underMount = RootPrefix.Length == 0 ? rel : RootPrefix + "/" + rel;
        foreach (string mount in DistinctMounts())
        {
            bool isCpuset = _mounts.TryGetValue("cpuset", out string? cpusetMount) && cpusetMount == mount;

            // Every missing level, the prefix included, is created; cpuset levels get cpus/mems from their parent.
            CgroupFs.MakeDirs(rel, mount, underMount, null);
            if (isCpuset)
            {
                EnsureCpuset(rel, mount, underMount);
            }
        }

        var cgroup = new CgroupV1(rel, Dirs(rel));
        cgroup.Apply(resources);
        return cgroup;
    }

    public ICgroup? Open(string relativePath)
    {
        string rel = Normalize(relativePath);
        Dictionary<string, string> dirs = Dirs(rel);
        return dirs.Values.Any(Directory.Exists) ? new CgroupV1(rel, dirs) : null;
    }

    public void Remove(string relativePath)
    {
        string rel = Normalize(relativePath);
        if (rel.Length == 0 && RootPrefix.Length == 0)
        {
            throw new ArgumentException("refusing to remove the root of the cgroup hierarchy", nameof(relativePath));
        }

        Dictionary<string, string> dirs = Dirs(rel);
        List<string> roots = [.. dirs.Values.Distinct(StringComparer.Ordinal).Where(Directory.Exists)];
        dirs.TryGetValue("freezer", out string? freezer);
        bool canFreeze = freezer is not null && File.Exists(Path.Combine(freezer, "freezer.state"));
        CgroupTree.KillAndRemove(
            rel,
            roots,
            canFreeze ? () => CgroupFs.TryWrite(freezer!, "freezer.state", "FROZEN", out _) : null,
            canFreeze ? () => CgroupFs.TryWrite(freezer!, "freezer.state", "THAWED", out _) : null);
    }

    /// <summary>
    /// A new cpuset cgroup starts with empty cpus/mems and refuses tasks until they are set. Every level is checked,
    /// not only the ones this call made: a level another caller has just made may not have its values yet (sandboxes
    /// are created concurrently).
    /// </summary>
    private static void EnsureCpuset(string cgroup, string root, string relativePath)
    {
        string parent = root;
        foreach (string part in relativePath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            string dir = Path.Combine(parent, part);
            foreach (string file in (string[])["cpuset.cpus", "cpuset.mems"])
            {
                if (CgroupFs.Read(cgroup, dir, file).Trim().Length == 0)
                {
                    CgroupFs.Write(cgroup, dir, file, CgroupFs.Read(cgroup, parent, file).Trim());
                }
            }

            parent = dir;
        }
    }

    private IEnumerable<string> DistinctMounts() => KnownControllers
        .Where(_mounts.ContainsKey)
        .Select(c => _mounts[c])
        .Distinct(StringComparer.Ordinal);

    private Dictionary<string, string> Dirs(string rel)
    {
        var dirs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string controller, string root) in _controllerRoots)
        {
            dirs[controller] = rel.Length == 0 ? root : Path.Combine(root, rel);
        }

        return dirs;
    }

    internal static string Normalize(string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        string rel = relativePath.Trim('/');
        foreach (string part in rel.Split('/'))
        {
            if (part is "." or ".." || (part.Length == 0 && rel.Length > 0))
            {
                throw new ArgumentException($"cgroup path \"{relativePath}\" is not a clean relative path", nameof(relativePath));
            }
        }

        return rel;
    }
}
