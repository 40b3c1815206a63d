using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace NodeAgent.Linux;

/// <summary>Hands an open descriptor to another process over a Unix socket pair (SCM_RIGHTS).</summary>
public static unsafe class DescriptorPassing
{
    /// <summary>A connected pair of Unix stream sockets, both close-on-exec.</summary>
    public static (SafeFileHandle A, SafeFileHandle B) CreateSocketPair()
    {
        var fds = stackalloc int[2];
        LinuxException.ThrowIfError(LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, fds), "socketpair");
        return (new SafeFileHandle(fds[0], ownsHandle: true), new SafeFileHandle(fds[1], ownsHandle: true));
    }

    /// <summary>Sends <paramref name="fd"/> (with one byte of data) on the socket <paramref name="socket"/>.</summary>
    public static void Send(int socket, int fd)
    {
        using var handle = new SafeFileHandle(socket, ownsHandle: false);
        PacketSockets.Send(handle, [0], [fd], Timeout.InfiniteTimeSpan);
    }

    /// <summary>Receives one descriptor (close-on-exec) from the socket; null when the peer closed it without sending one.</summary>
    public static SafeFileHandle? Receive(SafeFileHandle socket)
    {
        var fds = new List<SafeFileHandle>(1);
        var n = PacketSockets.Receive(socket, stackalloc byte[1], fds);
        for (var i = 1; i < fds.Count; i++)
        {
            fds[i].Dispose();
        }

        return n > 0 && fds.Count > 0 ? fds[0] : null;
    }
}
