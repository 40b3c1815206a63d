
namespace NodeAgent.Cri;

/// <summary>What the kubelet side asks of a container (the CRI's ContainerConfig, trimmed).</summary>
public sealed record ContainerConfig
{
    public required string Name { get; init; }

    public uint Attempt { get; init; }

    /// <summary>Image reference as the user wrote it; resolved against the image store.</summary>
    public required string Image { get; init; }

    /// <summary>Kubernetes <c>command</c>: replaces the image ENTRYPOINT and drops its CMD.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>Kubernetes <c>args</c>: replaces the image CMD.</summary>
    public IReadOnlyList<string>? Args { get; init; }

    public string? WorkingDir { get; init; }

    /// <summary>Environment in order; later entries win, and they win over the image's.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; init; } = [];

    public IReadOnlyList<VolumeMount> Mounts { get; init; } = [];

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();

    /// <summary>Log file path relative to the sandbox's log directory, e.g. <c>app/0.log</c>.</summary>
    public required string LogPath { get; init; }

    public LinuxContainerResources Resources { get; init; } = new();

    public ContainerSecurity Security { get; init; } = new();

    /// <summary>The signal a stop sends first (the CRI's <c>ContainerConfig.stop_signal</c>, from the container's
    /// <c>lifecycle.stopSignal</c>); null: the image's <c>STOPSIGNAL</c>, else SIGTERM (see <see cref="Signals"/>).</summary>
    public int? StopSignal { get; init; }
}
