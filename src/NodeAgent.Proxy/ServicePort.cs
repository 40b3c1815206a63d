using System.Net;

namespace NodeAgent.Proxy;

/// <summary>
/// One service port as the proxy programs it, every field parsed and checked (<see cref="ServiceParser"/>), so
/// rule text is made from these values only.
/// </summary>
public sealed record ServicePort
{
    public required ServicePortName Name { get; init; }

    public required IPAddress ClusterIP { get; init; }

    public required int Port { get; init; }

    public required L4Protocol Protocol { get; init; }

    /// <summary>0 when the service has no node port.</summary>
    public int NodePort { get; init; }

    public IReadOnlyList<IPAddress> ExternalIPs { get; init; } = [];

    public IReadOnlyList<IPAddress> LoadBalancerIPs { get; init; } = [];

    /// <summary>CIDRs of <c>loadBalancerSourceRanges</c>, as (network, prefix length).</summary>
    public IReadOnlyList<(IPAddress Network, int Prefix)> LoadBalancerSourceRanges { get; init; } = [];

    /// <summary>Seconds of ClientIP affinity; null without session affinity.</summary>
    public int? StickySeconds { get; init; }

    /// <summary><c>externalTrafficPolicy: Local</c> on an externally reachable service.</summary>
    public bool ExternalPolicyLocal { get; init; }

    /// <summary><c>internalTrafficPolicy: Local</c>.</summary>
    public bool InternalPolicyLocal { get; init; }

    /// <summary>0 unless the API allocated one (externalTrafficPolicy Local on a LoadBalancer).</summary>
    public int HealthCheckNodePort { get; init; }

    /// <summary>NodePort, LoadBalancer, or external IPs: reachable from outside the cluster.</summary>
    public bool ExternallyAccessible => NodePort != 0 || ExternalIPs.Count > 0 || LoadBalancerIPs.Count > 0;

    /// <summary>Traffic uses the cluster-wide endpoints for some destination (kube-proxy's UsesClusterEndpoints).</summary>
    public bool UsesClusterEndpoints => !InternalPolicyLocal || (ExternallyAccessible && !ExternalPolicyLocal);

    /// <summary>Traffic uses only this node's endpoints for some destination.</summary>
    public bool UsesLocalEndpoints => InternalPolicyLocal || (ExternallyAccessible && ExternalPolicyLocal);
}
