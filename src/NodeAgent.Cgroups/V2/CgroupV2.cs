using System.Globalization;

namespace NodeAgent.Cgroups.V2;

/// <summary>One cgroup v2 group: a single directory in the unified hierarchy.</summary>
public sealed class CgroupV2 : ICgroup
{
    internal CgroupV2(string relativePath, string directory)
    {
        RelativePath = relativePath;
        Directory = directory;
        ProcsFiles = [Path.Combine(directory, "cgroup.procs")];
    }

    public string RelativePath { get; }

    /// <summary>The absolute directory of this cgroup.</summary>
    public string Directory { get; }

    public IReadOnlyList<string> ProcsFiles { get; }

    public void Apply(CgroupResources resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        if (resources.CpuShares is long shares && HasFile("cpu.weight"))
        {
            Write("cpu.weight", CpuWeight.FromShares(shares).ToString(CultureInfo.InvariantCulture));
        }

        if (HasFile("cpu.max"))
        {
            string quota = resources.CpuQuotaMicros is long q ? q.ToString(CultureInfo.InvariantCulture) : "max";
            Write("cpu.max", quota + " " + resources.CpuPeriodMicros.ToString(CultureInfo.InvariantCulture));
        }
        else if (resources.CpuQuotaMicros is not null)
        {
            throw new CgroupException($"cgroup {RelativePath}: a CPU limit was asked for but the cpu controller is not enabled (no cpu.max)");
        }

        if (HasFile("memory.max"))
        {
            Write("memory.max", resources.MemoryLimitBytes is long m ? m.ToString(CultureInfo.InvariantCulture) : "max");
        }
        else if (resources.MemoryLimitBytes is not null)
        {
            throw new CgroupException($"cgroup {RelativePath}: a memory limit was asked for but the memory controller is not enabled (no memory.max)");
        }

        if (HasFile("pids.max"))
        {
            Write("pids.max", resources.PidsLimit is long p ? p.ToString(CultureInfo.InvariantCulture) : "max");
        }
        else if (resources.PidsLimit is not null)
        {
            throw new CgroupException($"cgroup {RelativePath}: a pids limit was asked for but the pids controller is not enabled (no pids.max)");
        }
    }

    public void AddProcess(int pid) => Write("cgroup.procs", pid.ToString(CultureInfo.InvariantCulture));

    public IReadOnlyList<int> GetPids()
    {
        List<int> pids = CgroupFs.ReadPids(Directory);
        pids.Sort();
        return pids;
    }

    public long OomKillCount() => (long)(CgroupFs.ReadKeyed(Directory, "memory.events", "oom_kill") ?? 0);

    public CgroupStats ReadStats()
    {
        ulong cpu = (CgroupFs.ReadKeyed(Directory, "cpu.stat", "usage_usec") ?? 0) * 1000;
        ulong usage = HasFile("memory.current") ? CgroupFs.ReadULong(RelativePath, Directory, "memory.current") : 0;
        ulong inactiveFile = CgroupFs.ReadKeyed(Directory, "memory.stat", "inactive_file") ?? 0;
        ulong workingSet = usage > inactiveFile ? usage - inactiveFile : 0;
        ulong pids = HasFile("pids.current") ? CgroupFs.ReadULong(RelativePath, Directory, "pids.current") : (ulong)GetPids().Count;
        return new CgroupStats(cpu, usage, workingSet, pids);
    }

    private bool HasFile(string file) => File.Exists(Path.Combine(Directory, file));

    private void Write(string file, string value) => CgroupFs.Write(RelativePath, Directory, file, value);
}
