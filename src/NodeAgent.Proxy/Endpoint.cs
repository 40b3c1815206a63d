using System.Net;

namespace NodeAgent.Proxy;

/// <summary>
/// One endpoint of a service port, from an EndpointSlice, with its conditions as kube-proxy reads them: ready (unset
/// means ready), serving (unset means as ready), terminating (unset means not), and whether it is on this node.
/// </summary>
public sealed record Endpoint(IPAddress Address, int Port, bool Ready, bool Serving, bool Terminating, bool IsLocal)
{
    /// <summary><c>ip:port</c>, the DNAT destination and part of the endpoint chain's hash.</summary>
    public override string ToString() => $"{Address}:{Port}";
}
