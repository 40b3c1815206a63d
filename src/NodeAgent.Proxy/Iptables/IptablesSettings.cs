using System.Net;

namespace NodeAgent.Proxy.Iptables;

/// <summary>How the iptables proxier programs traffic (kube-proxy's flags of the same meaning).</summary>
public sealed record IptablesSettings
{
    /// <summary><c>--masquerade-all</c>: SNAT all traffic to cluster IPs.</summary>
    public bool MasqueradeAll { get; init; }

    /// <summary><c>--cluster-cidr</c>: traffic from outside it to a cluster IP is masqueraded, traffic from inside it
    /// to an external destination of a Local-policy service goes to the cluster-wide endpoints. Null: not known.</summary>
    public (IPAddress Network, int Prefix)? ClusterCidr { get; init; }

    /// <summary>The node addresses NodePorts answer on (<c>--nodeport-addresses</c> resolved); null: every local
    /// address except loopback.</summary>
    public IReadOnlyList<IPAddress>? NodePortAddresses { get; init; }

    internal string? ClusterCidrText => ClusterCidr is { } c ? $"{c.Network}/{c.Prefix}" : null;
}
