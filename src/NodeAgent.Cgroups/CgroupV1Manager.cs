namespace NodeAgent.Cgroups;

/// <summary>cgroup v1 (legacy or hybrid hosts): one directory per mounted controller hierarchy.</summary>
public sealed class CgroupV1Manager : ICgroupManager
{
    private static readonly string[] Controllers = ["cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer"];

    private readonly IReadOnlyDictionary<string, string> _mounts;
    private readonly string _prefix;

    /// <param name="mounts">Controller name to hierarchy mount point (co-mounted controllers share one).</param>
    /// <param name="prefix">Relative path under every hierarchy root where NodeAgent's groups live.</param>
    public CgroupV1Manager(IReadOnlyDictionary<string, string> mounts, string prefix)
    {
        _mounts = mounts;
        _prefix = prefix.Trim('/');
    }

    public CgroupVersion Version => CgroupVersion.V1;

    public ICgroup CreateOrUpdate(string relativePath, CgroupResources resources)
    {
        var group = new Group(this, relativePath);
        foreach (var (controller, dir) in group.Dirs)
        {
            CreateLevels(controller, relativePath);
        }

        group.Apply(resources);
        return group;
    }

    public ICgroup? Open(string relativePath)
    {
        var group = new Group(this, relativePath);
        return group.Dirs.Any(d => Directory.Exists(d.Value)) ? group : null;
    }

    public void Remove(string relativePath)
    {
        var group = new Group(this, relativePath);
        group.KillAll();
        foreach (var dir in group.Dirs.Values.Distinct())
        {
            CgroupFiles.RemoveTree(dir, Display(relativePath));
        }
    }

    private string Display(string relativePath) => string.Join('/', new[] { _prefix, relativePath.Trim('/') }.Where(p => p.Length > 0));

    private string PathIn(string mount, string relativePath) =>
        Path.Combine(mount, Display(relativePath));

    private void CreateLevels(string controller, string relativePath)
    {
        var mount = _mounts[controller];
        var parts = Display(relativePath).Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = mount;
        foreach (var part in parts)
        {
            var parent = current;
            current = Path.Combine(current, part);
            if (Directory.Exists(current))
            {
                continue;
            }

            try
            {
                Directory.CreateDirectory(current);
            }
            catch (IOException ex)
            {
                throw new CgroupException($"cgroup {Display(relativePath)}: creating {current}: {ex.Message}", ex);
            }

            if (controller == "cpuset")
            {
                // A cpuset child starts empty and accepts no task until it has CPUs and memory nodes.
                foreach (var file in new[] { "cpuset.cpus", "cpuset.mems" })
                {
                    if (string.IsNullOrEmpty(CgroupFiles.Read(current, file)))
                    {
                        CgroupFiles.Write(current, file, CgroupFiles.Read(parent, file) ?? string.Empty, Display(relativePath));
                    }
                }
            }
        }
    }

    /// <summary>Controller mount points of this host from /proc/self/mountinfo.</summary>
    public static Dictionary<string, string> DiscoverMounts(string mountinfo = "/proc/self/mountinfo")
    {
        var result = new Dictionary<string, string>();
        foreach (var line in File.ReadLines(mountinfo))
        {
            var sep = line.IndexOf(" - ", StringComparison.Ordinal);
            if (sep < 0)
            {
                continue;
            }

            var tail = line[(sep + 3)..].Split(' ');
            if (tail.Length < 3 || tail[0] != "cgroup")
            {
                continue;
            }

            var mountPoint = line[..sep].Split(' ')[4];
            foreach (var option in tail[2].Split(','))
            {
                if (Controllers.Contains(option) && !result.ContainsKey(option))
                {
                    result[option] = mountPoint;
                }
            }
        }

        return result;
    }

    private sealed class Group(CgroupV1Manager manager, string relativePath) : ICgroup
    {
        public string RelativePath { get; } = relativePath;

        public IReadOnlyDictionary<string, string> Dirs { get; } =
            manager._mounts.ToDictionary(m => m.Key, m => manager.PathIn(m.Value, relativePath));

        private string Name => manager.Display(RelativePath);

        public IReadOnlyList<string> ProcsFiles =>
            Dirs.Values.Distinct().Select(d => Path.Combine(d, "cgroup.procs")).ToList();

        private string? Dir(string controller) => Dirs.TryGetValue(controller, out var d) ? d : null;

        public void Apply(CgroupResources resources)
        {
            if (Dir("cpu") is { } cpu)
            {
                if (resources.CpuShares is { } shares)
                {
                    CgroupFiles.Write(cpu, "cpu.shares", shares.ToString(), Name);
                }

                CgroupFiles.Write(cpu, "cpu.cfs_period_us", resources.CpuPeriodMicros.ToString(), Name);
                CgroupFiles.Write(cpu, "cpu.cfs_quota_us", (resources.CpuQuotaMicros ?? -1).ToString(), Name);
            }
            else if (resources.CpuQuotaMicros is not null)
            {
                throw new CgroupException($"cgroup {Name}: a CPU limit needs the cpu controller, which is not mounted");
            }

            if (Dir("memory") is { } memory)
            {
                CgroupFiles.Write(memory, "memory.limit_in_bytes", (resources.MemoryLimitBytes ?? -1).ToString(), Name);
            }
            else if (resources.MemoryLimitBytes is not null)
            {
                throw new CgroupException($"cgroup {Name}: a memory limit needs the memory controller, which is not mounted");
            }

            if (Dir("pids") is { } pids)
            {
                CgroupFiles.Write(pids, "pids.max", resources.PidsLimit is { } p ? p.ToString() : "max", Name);
            }
            else if (resources.PidsLimit is not null)
            {
                throw new CgroupException($"cgroup {Name}: a pids limit needs the pids controller, which is not mounted");
            }
        }

        public void AddProcess(int pid)
        {
            foreach (var dir in Dirs.Values.Distinct())
            {
                CgroupFiles.Write(dir, "cgroup.procs", pid.ToString(), Name);
            }
        }

        public IReadOnlyList<int> GetPids()
        {
            var dir = Dir("pids") ?? Dir("memory") ?? Dirs.Values.First();
            return Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories).Prepend(dir)
                .SelectMany(CgroupFiles.ReadPids).Distinct().ToList();
        }

        public long OomKillCount() => Dir("memory") is { } m ? (long)CgroupFiles.ReadKey(m, "memory.oom_control", "oom_kill") : 0;

        public CgroupStats ReadStats()
        {
            var memory = Dir("memory");
            var usage = memory is null ? 0 : CgroupFiles.ReadNumber(memory, "memory.usage_in_bytes");
            var inactive = memory is null ? 0 : CgroupFiles.ReadKey(memory, "memory.stat", "total_inactive_file");
            return new CgroupStats(
                Dir("cpuacct") is { } acct ? CgroupFiles.ReadNumber(acct, "cpuacct.usage") : 0,
                usage,
                usage > inactive ? usage - inactive : 0,
                Dir("pids") is { } pids ? CgroupFiles.ReadNumber(pids, "pids.current") : 0);
        }

        /// <summary>Freezes the group so nothing forks, kills every process, thaws so the kills land.</summary>
        public void KillAll()
        {
            var freezer = Dir("freezer");
            var frozen = freezer is not null && Directory.Exists(freezer);
            if (frozen)
            {
                CgroupFiles.Write(freezer!, "freezer.state", "FROZEN", Name);
            }

            try
            {
                foreach (var pid in Directory.Exists(Dirs.Values.First()) || Dirs.Values.Any(Directory.Exists) ? GetPidsSafe() : [])
                {
                    NodeAgent.Linux.ProcessControl.Kill(pid, 9);
                }
            }
            finally
            {
                if (frozen)
                {
                    CgroupFiles.Write(freezer!, "freezer.state", "THAWED", Name);
                }
            }
        }

        private IEnumerable<int> GetPidsSafe() =>
            Dirs.Values.Distinct().Where(Directory.Exists)
                .SelectMany(d => Directory.EnumerateDirectories(d, "*", SearchOption.AllDirectories).Prepend(d))
                .SelectMany(CgroupFiles.ReadPids).Distinct();
    }
}
