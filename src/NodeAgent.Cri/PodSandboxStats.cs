namespace NodeAgent.Cri;

/// <summary>One ready pod sandbox's readings (the CRI's PodSandboxStats): the pod cgroup's counters and the
/// interfaces of its network namespace (none for hostNetwork pods).</summary>
public sealed record PodSandboxStats
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string Namespace { get; init; }

    public required string Uid { get; init; }

    /// <summary>The pod cgroup's name from the hierarchy root (<c>/kubepods/besteffort/pod&lt;uid&gt;</c>).</summary>
    public required string CgroupName { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public required CpuUsage Cpu { get; init; }

    public required MemoryUsage Memory { get; init; }

    public ulong Processes { get; init; }

    public ulong Threads { get; init; }

    public IReadOnlyList<DiskIoStats> DiskIo { get; init; } = [];

    public IReadOnlyList<InterfaceStats> Network { get; init; } = [];

    /// <summary>The pod-level limits of the sandbox config.</summary>
    public LinuxContainerResources Limits { get; init; } = new();

    public DateTimeOffset Timestamp { get; init; }
}
