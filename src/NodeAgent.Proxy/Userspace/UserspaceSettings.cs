using System.Net;

namespace NodeAgent.Proxy.Userspace;

/// <summary>How the userspace proxier listens and forwards (kube-proxy's userspace flags of the same meaning).</summary>
public sealed record UserspaceSettings
{
    /// <summary>The node's network namespace as a path, where listeners and backend connections are made; null: the
    /// caller's.</summary>
    public string? NodeNetns { get; init; }

    /// <summary>The address the service listeners bind (kube-proxy's <c>--bind-address</c>; 0.0.0.0 by default).</summary>
    public IPAddress ListenAddress { get; init; } = IPAddress.Any;

    /// <summary>
    /// The node's address, where traffic the node itself sends to a cluster IP or node port is DNATed (kube-proxy's
    /// host portals). A UDP listener answers from the address the datagram was sent to only when that address is one
    /// the kernel would pick as the source anyway, which the node's own address is and 127.0.0.1 (REDIRECT in OUTPUT)
    /// is not. Null: REDIRECT, which serves TCP only.
    /// </summary>
    public IPAddress? HostAddress { get; init; }

    /// <summary><c>--udp-timeout</c>: how long a UDP client's session to its endpoint lives without traffic
    /// (kube-proxy: 250 ms).</summary>
    public TimeSpan UdpIdleTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long each connect to an endpoint may take; one attempt per entry, each to the next endpoint.
    /// kube-proxy's EndpointDialTimeouts are 250 ms, 500 ms, 1 s, 2 s; here each is four times that, because on a
    /// loaded node a connect that has succeeded can be seen after 250 ms (the continuation waits for a thread), and
    /// a client pinned by ClientIP affinity was then moved to another endpoint. A refused connect fails at once
    /// either way; only endpoints that drop packets wait this long.</summary>
    public IReadOnlyList<TimeSpan> ConnectTimeouts { get; init; } =
        [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8)];

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
