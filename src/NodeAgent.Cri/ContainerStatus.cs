namespace NodeAgent.Cri;

/// <summary>A container as the runtime reports it (the CRI's ContainerStatus).</summary>
public sealed record ContainerStatus
{
    public required string Id { get; init; }

    public required string SandboxId { get; init; }

    public required string Name { get; init; }

    public uint Attempt { get; init; }

    public ContainerState State { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public int ExitCode { get; init; }

    /// <summary>kubelet's reasons: Completed, Error, OOMKilled, StartError, ContainerCannotRun.</summary>
    public string? Reason { get; init; }

    public string? Message { get; init; }

    /// <summary>The image reference the container was created from.</summary>
    public required string Image { get; init; }

    /// <summary>The image ID (config digest).</summary>
    public required string ImageId { get; init; }

    public int Pid { get; init; }

    public required string LogPath { get; init; }

    public IReadOnlyList<string> Command { get; init; } = [];

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();
}
