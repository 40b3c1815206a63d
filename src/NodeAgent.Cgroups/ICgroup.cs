namespace NodeAgent.Cgroups;

/// <summary>One cgroup, across every hierarchy it lives in.</summary>
public interface ICgroup
{
    string RelativePath { get; }

    /// <summary>Absolute paths of the <c>cgroup.procs</c> files a process writes "0" to in order to join.</summary>
    IReadOnlyList<string> ProcsFiles { get; }

    void Apply(CgroupResources resources);

    void AddProcess(int pid);

    IReadOnlyList<int> GetPids();

    /// <summary>How many processes the kernel OOM killer has killed in this cgroup.</summary>
    long OomKillCount();

    CgroupStats ReadStats();
}

public sealed record CgroupStats(ulong CpuUsageNanos, ulong MemoryUsageBytes, ulong MemoryWorkingSetBytes, ulong PidsCurrent);
