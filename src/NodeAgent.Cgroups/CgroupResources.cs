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

    /// <summary>
    /// Device access rules in the kernel's format (<c>c 1:3 rwm</c>): when set, every device is denied and these are
    /// allowed (v1 devices controller). Null leaves the inherited rules. cgroup v2 needs an eBPF program for this and
    /// does not apply them yet.
    /// </summary>
    public IReadOnlyList<string>? DeviceRules { get; init; }
}
