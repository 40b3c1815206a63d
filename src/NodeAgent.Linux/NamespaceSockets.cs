using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;

namespace NodeAgent.Linux;

/// <summary>
/// Makes a socket inside another network namespace on the calling thread: setns into it, socket(2), setns back into
/// the process's own network namespace (setns with CLONE_NEWNET may be repeated on any thread, and a socket keeps
/// the namespace it was made in). No thread is started and none is handed work, so a probe's socket costs an open,
/// two setns calls and the socket. Nothing else runs on the thread in between (no await); a thread that could not
/// return would be a thread-pool thread in a pod's namespace, so that ends the process.
/// </summary>
internal static class NamespaceSockets
{
    /// <summary>The process's own network namespace: every thread's, except while it is inside this class.</summary>
    private static readonly SafeFileHandle Home = File.OpenHandle("/proc/self/ns/net", FileMode.Open, FileAccess.Read);

    public static Socket Create(string netnsPath, AddressFamily family, SocketType type, ProtocolType protocol)
    {
        using var target = File.OpenHandle(netnsPath, FileMode.Open, FileAccess.Read);
        Namespaces.Join(target, NamespaceKind.Network, netnsPath);
        try
        {
            return new Socket(family, type, protocol);
        }
        finally
        {
            try
            {
                Namespaces.Join(Home, NamespaceKind.Network, "the process's own network namespace");
            }
            catch (LinuxException ex)
            {
                Environment.FailFast($"a thread could not return to its network namespace from {netnsPath}: {ex.Message}");
            }
        }
    }
}
