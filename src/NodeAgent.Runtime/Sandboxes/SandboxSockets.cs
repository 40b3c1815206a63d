using System.Net.Sockets;
using NodeAgent.Cri;
using NodeAgent.Linux;

namespace NodeAgent.Runtime.Sandboxes;

/// <summary>
/// <see cref="ISandboxSockets"/> over the runtime's own sandbox records: the socket is made by the calling thread,
/// which joins the sandbox's pinned network namespace for the call and returns (<see cref="NetworkNamespace.CreateSocket"/>) (the path is the runtime's, never a pod's), so it belongs to
/// that namespace; a hostNetwork sandbox gets an ordinary socket.
/// </summary>
public sealed class SandboxSockets(IRuntimeService runtime) : ISandboxSockets
{
    public Socket CreateSocket(string sandboxId, AddressFamily family, SocketType type, ProtocolType protocol)
    {
        var sandbox = runtime.PodSandboxStatus(sandboxId) ?? throw new RuntimeException(RuntimeErrorKind.NotFound, $"sandbox {sandboxId} not found");
        if (sandbox.Config.HostNetwork || !sandbox.NamespacePaths.TryGetValue("net", out var netns) || netns.Length == 0)
        {
            return new Socket(family, type, protocol);
        }
        try
        {
            return NetworkNamespace.CreateSocket(netns, family, type, protocol);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            throw new RuntimeException(RuntimeErrorKind.NotFound, $"sandbox {sandboxId}: network namespace {netns}: {e.Message}", e);
        }
    }
}
