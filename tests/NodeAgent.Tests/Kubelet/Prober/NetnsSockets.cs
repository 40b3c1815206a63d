using System.Net.Sockets;
using NodeAgent.Cri;
using NodeAgent.Linux;

namespace NodeAgent.Tests.Kubelet.Prober;

/// <summary>Sockets in a network namespace the test pinned: the stand-in for a pod's sandbox.</summary>
internal sealed class NetnsSockets(string netns) : ISandboxSockets
{
    public Socket CreateSocket(string sandboxId, AddressFamily family, SocketType type, ProtocolType protocol) =>
        NetworkNamespace.Run(netns, () => new Socket(family, type, protocol));
}
