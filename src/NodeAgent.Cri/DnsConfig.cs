namespace NodeAgent.Cri;

/// <summary>The pod's resolv.conf (the CRI's DNSConfig): the kubelet side computes it from dnsPolicy.</summary>
public sealed record DnsConfig
{
    public IReadOnlyList<string> Servers { get; init; } = [];

    public IReadOnlyList<string> Searches { get; init; } = [];

    /// <summary>resolv.conf options such as <c>ndots:5</c>.</summary>
    public IReadOnlyList<string> Options { get; init; } = [];
}
