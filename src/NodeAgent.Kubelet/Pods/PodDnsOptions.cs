namespace NodeAgent.Kubelet.Pods;

/// <summary>The node's DNS settings (<c>--cluster-dns</c>, <c>--cluster-domain</c>, <c>--resolv-conf</c>).</summary>
public sealed record PodDnsOptions
{
    public IReadOnlyList<string> ClusterDns { get; init; } = [];

    public string ClusterDomain { get; init; } = "cluster.local";

    /// <summary>The resolv.conf pods with dnsPolicy Default get; empty for none.</summary>
    public string ResolvConf { get; init; } = "/etc/resolv.conf";
}
