
namespace NodeAgent.Cri;

/// <summary>One sandbox as the pod network sees it.</summary>
public sealed record PodNetworkRequest
{
    public required string SandboxId { get; init; }

    /// <summary>The pinned network namespace of the sandbox (may be gone at teardown).</summary>
    public required string NetnsPath { get; init; }

    public required string PodName { get; init; }

    public required string PodNamespace { get; init; }

    public required string PodUid { get; init; }

    public IReadOnlyList<PortMapping> PortMappings { get; init; } = [];
}
