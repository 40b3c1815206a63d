using System.Net.Sockets;

namespace NodeAgent.Cri;

/// <summary>
/// Sockets in a pod sandbox's network namespace, so the kubelet's probes reach a pod's ports over the pod's own
/// network, whether or not the pod has a routable address (loopback inside the sandbox always reaches it). A
/// socket made here stays in that namespace for its life, whichever thread uses it.
/// </summary>
public interface ISandboxSockets
{
    /// <summary>A new socket in the sandbox's network namespace (the node's for a hostNetwork sandbox).</summary>
    /// <exception cref="RuntimeException">The sandbox is unknown or its namespace is gone.</exception>
    Socket CreateSocket(string sandboxId, AddressFamily family, SocketType type, ProtocolType protocol);
}
