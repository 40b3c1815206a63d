namespace NodeAgent.Cri;

/// <summary>
/// One running container's readings (the CRI's ContainerStats with its attributes): identity, the cgroup's counters
/// and the writable layer's usage.
/// </summary>
public sealed record ContainerStats
{
    public required string Id { get; init; }

    public required string SandboxId { get; init; }

    /// <summary>The container's name in its pod.</summary>
    public required string Name { get; init; }

    /// <summary>The image reference the container was created from.</summary>
    public required string Image { get; init; }

    /// <summary>The cgroup's name from the hierarchy root, as cAdvisor's <c>id</c> label (<c>/kubepods/besteffort/pod…/&lt;id&gt;</c>).</summary>
    public required string CgroupName { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public required CpuUsage Cpu { get; init; }

    public required MemoryUsage Memory { get; init; }

    public ulong Processes { get; init; }

    public ulong Threads { get; init; }

    public IReadOnlyList<DiskIoStats> DiskIo { get; init; } = [];

    /// <summary>The writable layer; null until the first background measurement.</summary>
    public FsUsage? WritableLayer { get; init; }

    /// <summary>The container's log files; null until the first background measurement.</summary>
    public FsUsage? Logs { get; init; }

    /// <summary>The limits it was created with (CFS quota and period, shares, memory limit).</summary>
    public LinuxContainerResources Limits { get; init; } = new();

    /// <summary>When these readings were taken.</summary>
    public DateTimeOffset Timestamp { get; init; }
}
