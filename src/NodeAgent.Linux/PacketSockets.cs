using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace NodeAgent.Linux;

/// <summary>
/// Unix <c>SOCK_SEQPACKET</c> socket pairs: each send is one message that arrives whole (or not at all), and may
/// carry up to <see cref="MaxDescriptors"/> open descriptors (SCM_RIGHTS).
/// </summary>
public static unsafe class PacketSockets
{
    public const int MaxDescriptors = 4;

    /// <summary>Room for one SCM_RIGHTS control message with <see cref="MaxDescriptors"/> descriptors (header 16 + 4 × 4 bytes, padded: 32 on 64-bit).</summary>
    private struct ControlBuffer
    {
        public fixed byte Bytes[64];
    }

    /// <summary>A connected pair, both ends close-on-exec (a child gets its end through dup2, which clears the flag).</summary>
    public static (SafeFileHandle A, SafeFileHandle B) CreatePair()
    {
        var fds = stackalloc int[2];
        LinuxException.ThrowIfError(LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_SEQPACKET | LibC.SOCK_CLOEXEC, 0, fds), "socketpair SOCK_SEQPACKET");
        return (new SafeFileHandle(fds[0], ownsHandle: true), new SafeFileHandle(fds[1], ownsHandle: true));
    }

    /// <summary>
    /// Sends <paramref name="data"/> as one message with <paramref name="fds"/> attached. On a non-blocking socket
    /// whose buffer is full it waits (poll) up to <paramref name="timeout"/> for room; an <see cref="IOException"/>
    /// says the peer is gone or stuck.
    /// </summary>
    public static void Send(SafeHandle socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds, TimeSpan timeout)
    {
        if (fds.Length > MaxDescriptors)
        {
            throw new ArgumentOutOfRangeException(nameof(fds), $"at most {MaxDescriptors} descriptors per message");
        }

        var added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            var fd = (int)socket.DangerousGetHandle();
            ControlBuffer control;
            fixed (byte* bytes = data)
            {
                var iov = new iovec { iov_base = bytes, iov_len = data.Length };
                var msg = new msghdr { msg_iov = &iov, msg_iovlen = 1 };
                if (fds.Length > 0)
                {
                    var space = ControlSpace(fds.Length);
                    new Span<byte>(control.Bytes, space).Clear();
                    msg.msg_control = control.Bytes;
                    msg.msg_controllen = space;
                    var header = (ControlHeader*)control.Bytes;
                    header->Length = (nuint)(sizeof(ControlHeader) + sizeof(int) * fds.Length);
                    header->Level = LibC.SOL_SOCKET;
                    header->Type = LibC.SCM_RIGHTS;
                    fds.CopyTo(new Span<int>(control.Bytes + sizeof(ControlHeader), fds.Length));
                }

                var deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
                while (LibC.sendmsg(fd, &msg, LibC.MSG_NOSIGNAL) < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == ErrnoNames.EINTR)
                    {
                        continue;
                    }

                    if (errno == LibC.EAGAIN && WaitWritable(fd, deadline))
                    {
                        continue;
                    }

                    throw new IOException($"sendmsg on a packet socket: {LinuxException.Describe(errno)}");
                }
            }
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Receives one message into <paramref name="buffer"/> (blocking unless the socket is non-blocking); the
    /// descriptors it carried are added to <paramref name="fds"/> (close-on-exec). Returns the message's length, 0 at
    /// end-of-file, -1 when a non-blocking socket has nothing. A message longer than the buffer, or with more
    /// descriptors than fit, is an <see cref="InvalidDataException"/> (its descriptors closed).
    /// </summary>
    public static int Receive(SafeHandle socket, Span<byte> buffer, List<SafeFileHandle> fds)
    {
        var added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            ControlBuffer control;
            var space = ControlSpace(MaxDescriptors);
            new Span<byte>(control.Bytes, space).Clear();
            fixed (byte* bytes = buffer)
            {
                var iov = new iovec { iov_base = bytes, iov_len = buffer.Length };
                var msg = new msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = control.Bytes, msg_controllen = space };
                long n;
                while ((n = LibC.recvmsg((int)socket.DangerousGetHandle(), &msg, LibC.MSG_CMSG_CLOEXEC)) < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == ErrnoNames.EINTR)
                    {
                        continue;
                    }

                    if (errno == LibC.EAGAIN)
                    {
                        return -1;
                    }

                    throw new IOException($"recvmsg on a packet socket: {LinuxException.Describe(errno)}");
                }

                var start = fds.Count;
                var received = (long)(uint)msg.msg_controllen;
                var offset = 0L;
                while (offset + sizeof(ControlHeader) <= received)
                {
                    var header = (ControlHeader*)(control.Bytes + offset);
                    var length = (long)header->Length;
                    if (length < sizeof(ControlHeader) || offset + length > received)
                    {
                        break;
                    }

                    if (header->Level == LibC.SOL_SOCKET && header->Type == LibC.SCM_RIGHTS)
                    {
                        var count = (int)((length - sizeof(ControlHeader)) / sizeof(int));
                        var data = (int*)(control.Bytes + offset + sizeof(ControlHeader));
                        for (var i = 0; i < count; i++)
                        {
                            fds.Add(new SafeFileHandle(data[i], ownsHandle: true));
                        }
                    }

                    offset += Align(length);
                }

                if ((msg.msg_flags & (LibC.MSG_TRUNC | LibC.MSG_CTRUNC)) != 0)
                {
                    for (var i = fds.Count - 1; i >= start; i--)
                    {
                        fds[i].Dispose();
                        fds.RemoveAt(i);
                    }

                    throw new InvalidDataException($"packet socket: a message of more than {buffer.Length} bytes or {MaxDescriptors} descriptors");
                }

                return (int)n;
            }
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// The kernel's <c>struct cmsghdr</c> on 64-bit Linux (cmsg_len is a size_t there), written here rather than
    /// taken from Tmds.Linux, whose CMSG_LEN pads the length: the kernel reads every int inside cmsg_len as a
    /// descriptor to pass, so a padded length sends an extra descriptor (whatever int the padding holds).
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ControlHeader
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    /// <summary>The exact cmsg_len of an SCM_RIGHTS message with <paramref name="count"/> descriptors.</summary>
    internal static nuint ControlLength(int count) => (nuint)(sizeof(ControlHeader) + sizeof(int) * count);

    /// <summary>CMSG_SPACE: header and data, padded to the alignment of a size_t.</summary>
    internal static int ControlSpace(int count) => (int)Align(sizeof(ControlHeader) + sizeof(int) * count);

    private static long Align(long length) => (length + sizeof(nuint) - 1) & ~(long)(sizeof(nuint) - 1);

    private static bool WaitWritable(int fd, long deadline)
    {
        while (true)
        {
            var wait = (int)Math.Clamp(deadline - Environment.TickCount64, 0, int.MaxValue);
            if (wait == 0)
            {
                return false;
            }

            var p = new pollfd { fd = fd, events = LibC.POLLOUT };
            var n = LibC.poll(&p, 1, wait);
            if (n > 0)
            {
                return true;
            }

            if (n < 0 && Marshal.GetLastSystemError() != ErrnoNames.EINTR) // Tmds' poll is declared without SetLastError
            {
                return false;
            }
        }
    }
}
