namespace NodeAgent.Cri;

public enum SandboxState { Ready, NotReady }

/// <summary>A pod sandbox as the runtime reports it.</summary>
public sealed record PodSandboxStatus
{
    public required string Id { get; init; }

    public required PodSandboxConfig Config { get; init; }

    public SandboxState State { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Paths of the pinned namespace files, by kind (net, ipc, uts).</summary>
    public IReadOnlyDictionary<string, string> NamespacePaths { get; init; } = new Dictionary<string, string>();

    /// <summary>The pod's addresses on the pod network (empty for hostNetwork pods and without a network).</summary>
    public IReadOnlyList<string> PodIps { get; init; } = [];
}
