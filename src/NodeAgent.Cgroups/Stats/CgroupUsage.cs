namespace NodeAgent.Cgroups.Stats;

/// <summary>
/// The counters of one cgroup as one read found them, in kernel units (nanoseconds, bytes). Reused from read to read
/// by <see cref="ICgroupStatsReader"/>: copy what you keep.
/// </summary>
public sealed class CgroupUsage
{
    /// <summary>cpuacct.usage (v1) or cpu.stat usage_usec × 1000 (v2).</summary>
    public ulong CpuUsageNanos { get; set; }

    /// <summary>cpu.stat nr_periods.</summary>
    public ulong CpuPeriods { get; set; }

    /// <summary>cpu.stat nr_throttled.</summary>
    public ulong CpuThrottledPeriods { get; set; }

    /// <summary>cpu.stat throttled_time (v1, ns) or throttled_usec × 1000 (v2).</summary>
    public ulong CpuThrottledNanos { get; set; }

    /// <summary>memory.usage_in_bytes (v1) or memory.current (v2).</summary>
    public ulong MemoryUsageBytes { get; set; }

    /// <summary>Usage minus inactive file pages, floored at 0, as cAdvisor computes it.</summary>
    public ulong MemoryWorkingSetBytes { get; set; }

    /// <summary>memory.stat total_rss (v1) or anon (v2).</summary>
    public ulong MemoryRssBytes { get; set; }

    /// <summary>memory.stat total_cache (v1) or file (v2).</summary>
    public ulong MemoryCacheBytes { get; set; }

    /// <summary>memory.stat total_swap (v1, with swap accounting) or memory.swap.current (v2).</summary>
    public ulong MemorySwapBytes { get; set; }

    /// <summary>memory.failcnt (v1) or memory.events max (v2).</summary>
    public ulong MemoryFailcnt { get; set; }

    /// <summary>memory.stat total_pgfault (v1) or pgfault (v2).</summary>
    public ulong PageFaults { get; set; }

    /// <summary>memory.stat total_pgmajfault (v1) or pgmajfault (v2).</summary>
    public ulong MajorPageFaults { get; set; }

    /// <summary>memory.oom_control oom_kill (v1) or memory.events oom_kill (v2).</summary>
    public ulong OomKills { get; set; }

    /// <summary>Lines of cgroup.procs: processes directly in the group.</summary>
    public ulong Processes { get; set; }

    /// <summary>pids.current: tasks (threads) in the group and its children.</summary>
    public ulong Threads { get; set; }

    /// <summary>Bytes read and written per block device (blkio throttle counters on v1, io.stat on v2).</summary>
    public List<CgroupDeviceIo> DeviceIo { get; } = [];

    internal void Reset()
    {
        CpuUsageNanos = CpuPeriods = CpuThrottledPeriods = CpuThrottledNanos = 0;
        MemoryUsageBytes = MemoryWorkingSetBytes = MemoryRssBytes = MemoryCacheBytes = MemorySwapBytes = 0;
        MemoryFailcnt = PageFaults = MajorPageFaults = OomKills = Processes = Threads = 0;
        DeviceIo.Clear();
    }
}
