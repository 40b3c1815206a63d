namespace NodeAgent.Cri;

/// <summary>Limits for a container or pod cgroup in kernel units (the CRI's LinuxContainerResources, trimmed).
/// Null means unlimited / the kernel's default.</summary>
public sealed record LinuxContainerResources
{
    /// <summary>v1 cpu.shares; the runtime converts to cpu.weight on cgroup v2.</summary>
    public long? CpuShares { get; init; }

    /// <summary>CFS quota in microseconds per period; null = no limit.</summary>
    public long? CpuQuotaMicros { get; init; }

    public long CpuPeriodMicros { get; init; } = 100_000;

    public long? MemoryLimitBytes { get; init; }

    public long? PidsLimit { get; init; }
}
