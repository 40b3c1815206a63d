namespace NodeAgent.Network.Bridge;

/// <summary>Settings of the built-in pod network.</summary>
public sealed record BridgeNetworkOptions
{
    /// <summary>The pod CIDR (<c>--pod-cidr</c>); the bridge takes its first address as the pods' gateway.</summary>
    public string PodCidr { get; init; } = "10.88.0.0/16";

    public string BridgeName { get; init; } = "nodeagent0";

    public int Mtu { get; init; } = 1500;

    /// <summary>Where allocations and per-pod records live (<c>&lt;root-dir&gt;/network</c>).</summary>
    public required string StateDir { get; init; }

    /// <summary>The node's network namespace as a path; null for the agent's own (tests and benchmarks pass one).</summary>
    public string? NodeNetns { get; init; }
}
