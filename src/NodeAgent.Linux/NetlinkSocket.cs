using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>
/// A netlink socket (NETLINK_ROUTE unless asked otherwise; NETLINK_NETFILTER for conntrack), bound to the network namespace of the thread that opened it. The kernel refuses link
/// changes in a namespace no task is in (ENOTCONN), so for another namespace open and use it on a thread inside it
/// (<see cref="NetworkNamespace.Run"/>).
/// </summary>
public sealed class NetlinkSocket : SafeHandleZeroOrMinusOneIsInvalid
{
    private const int AF_NETLINK = 16, SOCK_RAW = 3, SOCK_CLOEXEC = 0x80000, NETLINK_ROUTE = 0;

    private NetlinkSocket()
        : base(ownsHandle: true)
    {
    }

    public const int NETLINK_NETFILTER = 12;

    /// <summary>Opens a NETLINK_ROUTE socket in the calling thread's network namespace, connected to the kernel.</summary>
    public static NetlinkSocket Open() => Open(NETLINK_ROUTE);

    /// <summary>Opens a socket of a netlink <paramref name="protocol"/> in the calling thread's network namespace.</summary>
    public static unsafe NetlinkSocket Open(int protocol)
    {
        var fd = Tmds.Linux.LibC.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
        LinuxException.ThrowIfError(fd, "socket", "AF_NETLINK");
        var socket = new NetlinkSocket();
        socket.SetHandle(fd);

        // Connected to the kernel (sockaddr_nl with pid 0), so plain send/recv work.
        var address = stackalloc byte[12];
        new Span<byte>(address, 12).Clear();
        *(ushort*)address = AF_NETLINK;
        if (Tmds.Linux.LibC.connect(fd, (Tmds.Linux.sockaddr*)address, 12) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            socket.Dispose();
            throw new LinuxException("connect", "AF_NETLINK", errno);
        }

        return socket;
    }

    /// <summary>Sends one complete netlink message (the kernel's address is implied).</summary>
    public unsafe void Send(ReadOnlySpan<byte> message)
    {
        fixed (byte* p = message)
        {
            var sent = Tmds.Linux.LibC.send((int)handle, p, message.Length, 0);
            if (sent < 0)
            {
                throw new LinuxException("netlink send", null, Marshal.GetLastPInvokeError());
            }
        }
    }

    /// <summary>Receives one datagram (one or more netlink messages) into <paramref name="buffer"/>.</summary>
    public unsafe int Receive(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Tmds.Linux.LibC.recv((int)handle, p, buffer.Length, 0);
                if (n >= 0)
                {
                    return (int)n;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno != ErrnoNames.EINTR)
                {
                    throw new LinuxException("netlink recv", null, errno);
                }
            }
        }
    }

    protected override bool ReleaseHandle() => Tmds.Linux.LibC.close((int)handle) == 0;
}
