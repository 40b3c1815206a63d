namespace NodeAgent.Cri;

/// <summary>Memory counters of a cgroup (the CRI's MemoryUsage plus what cAdvisor exposes); working set = usage − inactive file.</summary>
public sealed record MemoryUsage
{
    public ulong UsageBytes { get; init; }

    public ulong WorkingSetBytes { get; init; }

    public ulong RssBytes { get; init; }

    public ulong CacheBytes { get; init; }

    public ulong SwapBytes { get; init; }

    public ulong Failcnt { get; init; }

    public ulong PageFaults { get; init; }

    public ulong MajorPageFaults { get; init; }

    public ulong OomKills { get; init; }
}
