using System.Globalization;

namespace NodeAgent.Cgroups.V1;

/// <summary>One cgroup v1 group: the same relative path in every mounted controller hierarchy.</summary>
public sealed class CgroupV1 : ICgroup
{
    private readonly IReadOnlyDictionary<string, string> _dirs;

    internal CgroupV1(string relativePath, IReadOnlyDictionary<string, string> controllerDirs)
    {
        RelativePath = relativePath;
        _dirs = controllerDirs;
        ProcsFiles = [.. CgroupV1Manager.KnownControllers
            .Where(_dirs.ContainsKey)
            .Select(c => _dirs[c])
            .Distinct(StringComparer.Ordinal)
            .Select(d => Path.Combine(d, "cgroup.procs"))];
    }

    public string RelativePath { get; }

    public IReadOnlyList<string> ProcsFiles { get; }

    /// <summary>The directory of this cgroup in <paramref name="controller"/>'s hierarchy, or null when it is not mounted.</summary>
    public string? DirectoryOf(string controller) => _dirs.TryGetValue(controller, out string? d) ? d : null;

    public void Apply(CgroupResources resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        if (DirectoryOf("cpu") is { } cpu)
        {
            if (resources.CpuShares is long shares)
            {
                Write(cpu, "cpu.shares", shares);
            }

            // Period first, then quota, as runc does: a quota is validated against the current period.
            Write(cpu, "cpu.cfs_period_us", resources.CpuPeriodMicros);
            Write(cpu, "cpu.cfs_quota_us", resources.CpuQuotaMicros ?? -1);
        }

        if (DirectoryOf("memory") is { } memory)
        {
            long limit = resources.MemoryLimitBytes ?? -1;
            bool hasSwap = File.Exists(Path.Combine(memory, "memory.memsw.limit_in_bytes"));
            long current = (long)Math.Min(CgroupFs.ReadULong(RelativePath, memory, "memory.limit_in_bytes"), long.MaxValue);
            bool raising = limit == -1 || limit > current;

            // memsw must stay >= limit: raise memsw before the limit, lower it after.
            if (hasSwap && raising)
            {
                Write(memory, "memory.memsw.limit_in_bytes", limit);
            }

            Write(memory, "memory.limit_in_bytes", limit);
            if (hasSwap && !raising)
            {
                Write(memory, "memory.memsw.limit_in_bytes", limit);
            }
        }

        if (DirectoryOf("pids") is { } pids)
        {
            CgroupFs.Write(RelativePath, pids, "pids.max", resources.PidsLimit is long p ? p.ToString(CultureInfo.InvariantCulture) : "max");
        }

        if (resources.DeviceRules is { } rules && DirectoryOf("devices") is { } devices)
        {
            CgroupFs.Write(RelativePath, devices, "devices.deny", "a");
            foreach (string rule in rules)
            {
                CgroupFs.Write(RelativePath, devices, "devices.allow", rule);
            }
        }
    }

    public void AddProcess(int pid)
    {
        string value = pid.ToString(CultureInfo.InvariantCulture);
        foreach (string procs in ProcsFiles)
        {
            CgroupFs.Write(RelativePath, Path.GetDirectoryName(procs)!, "cgroup.procs", value);
        }
    }

    public IReadOnlyList<int> GetPids()
    {
        var pids = new SortedSet<int>();
        foreach (string procs in ProcsFiles)
        {
            pids.UnionWith(CgroupFs.ReadPids(Path.GetDirectoryName(procs)!));
        }

        return [.. pids];
    }

    public long OomKillCount() =>
        DirectoryOf("memory") is { } memory ? (long)(CgroupFs.ReadKeyed(memory, "memory.oom_control", "oom_kill") ?? 0) : 0;

    public CgroupStats ReadStats()
    {
        ulong cpu = DirectoryOf("cpuacct") is { } acct ? CgroupFs.ReadULong(RelativePath, acct, "cpuacct.usage") : 0;
        ulong usage = 0, workingSet = 0;
        if (DirectoryOf("memory") is { } memory)
        {
            usage = CgroupFs.ReadULong(RelativePath, memory, "memory.usage_in_bytes");
            ulong inactiveFile = CgroupFs.ReadKeyed(memory, "memory.stat", "total_inactive_file") ?? 0;
            workingSet = usage > inactiveFile ? usage - inactiveFile : 0; // as cAdvisor
        }

        ulong pids = DirectoryOf("pids") is { } p ? CgroupFs.ReadULong(RelativePath, p, "pids.current") : 0;
        return new CgroupStats(cpu, usage, workingSet, pids);
    }

    private void Write(string dir, string file, long value) =>
        CgroupFs.Write(RelativePath, dir, file, value.ToString(CultureInfo.InvariantCulture));
}
