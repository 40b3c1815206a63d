using System.Net;

namespace NodeAgent.Proxy;

/// <summary>
/// The proxy's settings (kube-proxy's KubeProxyConfiguration fields and flags), defaults as kube-proxy's:
/// <see cref="ProxyConfigResolver"/> fills it from defaults, then the <c>--config</c> file, then the flags given.
/// </summary>
public sealed record ProxyConfig
{
    public string? Kubeconfig { get; init; }

    /// <summary><c>iptables</c> (the default; kube-proxy's empty mode means it too) or <c>userspace</c>.</summary>
    public string Mode { get; init; } = "iptables";

    /// <summary><c>--iptables-backend</c> (NodeAgent's; kube-proxy's images decide it in their iptables-wrapper):
    /// <c>nft</c> or <c>legacy</c>; null (<c>auto</c>, the default): detected at start as the wrapper does.</summary>
    public Linux.IptablesBackend? IptablesBackend { get; init; }

    public (IPAddress Network, int Prefix)? ClusterCidr { get; init; }

    /// <summary>CIDRs whose node addresses answer NodePorts; empty: every local address.</summary>
    public IReadOnlyList<(IPAddress Network, int Prefix)> NodePortAddresses { get; init; } = [];

    public bool MasqueradeAll { get; init; }

    public TimeSpan MinSyncPeriod { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan SyncPeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>--udp-timeout</c> / <c>udpIdleTimeout</c>: how long an idle UDP session lives in userspace mode.</summary>
    public TimeSpan UdpIdleTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    public string? HostnameOverride { get; init; }

    /// <summary>Null: disabled (an empty flag value).</summary>
    public IPEndPoint? HealthzBindAddress { get; init; } = new(IPAddress.Any, 10256);

    public IPEndPoint? MetricsBindAddress { get; init; } = new(IPAddress.Loopback, 10249);
}
