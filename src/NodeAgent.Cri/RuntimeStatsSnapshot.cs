namespace NodeAgent.Cri;

/// <summary>
/// Every reading of one collection: the node, the machine, each ready sandbox and each running container. Immutable;
/// the stats service hands the same snapshot to every caller within its interval.
/// </summary>
public sealed record RuntimeStatsSnapshot
{
    public required DateTimeOffset Timestamp { get; init; }

    public required MachineInfo Machine { get; init; }

    public required NodeStats Node { get; init; }

    public IReadOnlyList<PodSandboxStats> Pods { get; init; } = [];

    public IReadOnlyList<ContainerStats> Containers { get; init; } = [];

    /// <summary>Readings that failed in this collection (an unreadable namespace, a cgroup file that made no sense): what and why.</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];
}
