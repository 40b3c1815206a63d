namespace NodeAgent.Cri;

/// <summary>A container port published on the node (the CRI's PortMapping; from a container port with hostPort).</summary>
public sealed record PortMapping
{
    /// <summary>TCP, UDP or SCTP.</summary>
    public string Protocol { get; init; } = "TCP";

    public int ContainerPort { get; init; }

    public int HostPort { get; init; }

    /// <summary>The node address to publish on; empty for all of them.</summary>
    public string? HostIp { get; init; }
}
