namespace NodeAgent.Cgroups;

/// <summary>cgroup v2 (the unified hierarchy): one directory, controllers enabled down the tree via subtree_control.</summary>
public sealed class CgroupV2Manager(string mountRoot, string prefix) : ICgroupManager
{
    private static readonly string[] Wanted = ["cpu", "cpuset", "memory", "pids", "io"];

    private readonly string _prefix = prefix.Trim('/');

    public CgroupVersion Version => CgroupVersion.V2;

    public ICgroup CreateOrUpdate(string relativePath, CgroupResources resources)
    {
        var parts = Display(relativePath).Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = mountRoot;
        foreach (var part in parts)
        {
            EnableControllers(current, relativePath);
            current = Path.Combine(current, part);
            if (!Directory.Exists(current))
            {
                try
                {
                    Directory.CreateDirectory(current);
                }
                catch (IOException ex)
                {
                    throw new CgroupException($"cgroup {Display(relativePath)}: creating {current}: {ex.Message}", ex);
                }
            }
        }

        var group = new Group(this, relativePath, current);
        group.Apply(resources);
        return group;
    }

    public ICgroup? Open(string relativePath)
    {
        var dir = Path.Combine(mountRoot, Display(relativePath));
        return Directory.Exists(dir) ? new Group(this, relativePath, dir) : null;
    }

    public void Remove(string relativePath)
    {
        var dir = Path.Combine(mountRoot, Display(relativePath));
        if (!Directory.Exists(dir))
        {
            return;
        }

        new Group(this, relativePath, dir).KillAll();
        CgroupFiles.RemoveTree(dir, Display(relativePath));
    }

    private string Display(string relativePath) => string.Join('/', new[] { _prefix, relativePath.Trim('/') }.Where(p => p.Length > 0));

    /// <summary>Enables in <paramref name="dir"/>'s subtree_control the wanted controllers it has.</summary>
    private void EnableControllers(string dir, string relativePath)
    {
        var available = (CgroupFiles.Read(dir, "cgroup.controllers") ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var enabled = (CgroupFiles.Read(dir, "cgroup.subtree_control") ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var missing = Wanted.Where(c => available.Contains(c) && !enabled.Contains(c)).ToList();
        if (missing.Count > 0)
        {
            CgroupFiles.Write(dir, "cgroup.subtree_control", string.Join(' ', missing.Select(c => "+" + c)), Display(relativePath));
        }
    }

    private sealed class Group(CgroupV2Manager manager, string relativePath, string dir) : ICgroup
    {
        public string RelativePath { get; } = relativePath;

        private string Name => manager.Display(RelativePath);

        public IReadOnlyList<string> ProcsFiles => [Path.Combine(dir, "cgroup.procs")];

        private bool Has(string file) => File.Exists(Path.Combine(dir, file));

        public void Apply(CgroupResources resources)
        {
            if (resources.CpuShares is { } shares && Has("cpu.weight"))
            {
                CgroupFiles.Write(dir, "cpu.weight", KubepodsLayout.WeightFromShares(shares).ToString(), Name);
            }

            Set("cpu.max", resources.CpuQuotaMicros is { } q ? $"{q} {resources.CpuPeriodMicros}" : $"max {resources.CpuPeriodMicros}", resources.CpuQuotaMicros is not null, "cpu");
            Set("memory.max", resources.MemoryLimitBytes?.ToString() ?? "max", resources.MemoryLimitBytes is not null, "memory");
            Set("pids.max", resources.PidsLimit?.ToString() ?? "max", resources.PidsLimit is not null, "pids");
        }

        /// <summary>Writes a limit; a requested limit whose controller is not enabled is an error, a default is skipped.</summary>
        private void Set(string file, string value, bool requested, string controller)
        {
            if (Has(file))
            {
                CgroupFiles.Write(dir, file, value, Name);
            }
            else if (requested)
            {
                throw new CgroupException($"cgroup {Name}: cannot set {file} = \"{value}\": the {controller} controller is not enabled for this cgroup");
            }
        }

        public void AddProcess(int pid) => CgroupFiles.Write(dir, "cgroup.procs", pid.ToString(), Name);

        public IReadOnlyList<int> GetPids() =>
            Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories).Prepend(dir)
                .SelectMany(CgroupFiles.ReadPids).Distinct().ToList();

        public long OomKillCount() => (long)CgroupFiles.ReadKey(dir, "memory.events", "oom_kill");

        public CgroupStats ReadStats()
        {
            var usage = CgroupFiles.ReadNumber(dir, "memory.current");
            var inactive = CgroupFiles.ReadKey(dir, "memory.stat", "inactive_file");
            return new CgroupStats(
                CgroupFiles.ReadKey(dir, "cpu.stat", "usage_usec") * 1000,
                usage,
                usage > inactive ? usage - inactive : 0,
                CgroupFiles.ReadNumber(dir, "pids.current"));
        }

        public void KillAll()
        {
            if (Has("cgroup.kill"))
            {
                CgroupFiles.Write(dir, "cgroup.kill", "1", Name);
                return;
            }

            foreach (var pid in GetPids())
            {
                NodeAgent.Linux.ProcessControl.Kill(pid, 9);
            }
        }
    }
}
