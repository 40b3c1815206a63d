namespace NodeAgent.Cgroups;

/// <summary>Limits for one cgroup, in kernel units. Null means "leave unlimited / kernel default".</summary>
public sealed record CgroupResources
{
    /// <summary>v1 cpu.shares; on v2 converted to cpu.weight.</summary>
    public long? CpuShares { get; init; }
    /// <summary>CFS quota in microseconds per period; null = no limit.</summary>
    public long? CpuQuotaMicros { get; init; }
    public long CpuPeriodMicros { get; init; } = 100_000;
    public long? MemoryLimitBytes { get; init; }
    public long? PidsLimit { get; init; }
}
