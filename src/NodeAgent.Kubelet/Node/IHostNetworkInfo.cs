using System.Net;
using System.Net.Sockets;

namespace NodeAgent.Kubelet.Node;

/// <summary>What node IP detection needs to know about the host: its addresses, its default routes, and name lookup.</summary>
public interface IHostNetworkInfo
{
    /// <summary>Every address of every interface that is up, with the interface's name.</summary>
    IReadOnlyList<(string Interface, IPAddress Address)> InterfaceAddresses();

    /// <summary>The interfaces of the default routes of one family, in the kernel's order (empty when there are none).</summary>
    IReadOnlyList<string> DefaultRouteInterfaces(AddressFamily family);

    /// <summary>The addresses a host name resolves to (hosts file, then DNS); empty when it does not resolve.</summary>
    Task<IReadOnlyList<IPAddress>> LookupAsync(string hostName, CancellationToken cancellationToken);
}
