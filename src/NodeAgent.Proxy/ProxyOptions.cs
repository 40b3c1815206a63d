namespace NodeAgent.Proxy;

/// <summary>The proxy's settings, with kube-proxy's defaults.</summary>
public sealed record ProxyOptions
{
    /// <summary>This node's name (<c>--hostname-override</c>): endpoints with this <c>nodeName</c> are local.</summary>
    public required string NodeName { get; init; }

    /// <summary><c>--iptables-min-sync-period</c>: at least this long between two syncs (kube-proxy: 1 s).</summary>
    public TimeSpan MinSyncPeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>--iptables-sync-period</c>: a sync at least this often, and a full one when the last full sync is
    /// this old (kube-proxy: 30 s).</summary>
    public TimeSpan SyncPeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How soon a failed sync is retried.</summary>
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(1);
}
