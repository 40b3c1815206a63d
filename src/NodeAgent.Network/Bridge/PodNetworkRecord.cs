using NodeAgent.Cri;

namespace NodeAgent.Network.Bridge;

/// <summary>What the built-in network holds for one sandbox, persisted so rules survive restarts.</summary>
public sealed record PodNetworkRecord
{
    public required string SandboxId { get; init; }

    public required string Ip { get; init; }

    public required string HostVeth { get; init; }

    public List<PortMapping> Ports { get; init; } = [];
}
