using System.Net.Sockets;
using NodeAgent.Linux;

namespace NodeAgent.Proxy.Userspace;

/// <summary>Makes sockets in the node's network namespace (a socket stays in the namespace it was made in).</summary>
internal sealed class NodeSockets(string? netns)
{
    public Socket Tcp() => Create(SocketType.Stream, ProtocolType.Tcp);

    public Socket Udp() => Create(SocketType.Dgram, ProtocolType.Udp);

    private Socket Create(SocketType type, ProtocolType protocol) => netns is null
        ? new Socket(AddressFamily.InterNetwork, type, protocol)
        : NetworkNamespace.Run(netns, () => new Socket(AddressFamily.InterNetwork, type, protocol));
}
