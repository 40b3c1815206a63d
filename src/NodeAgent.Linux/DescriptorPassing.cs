using System.Runtime.InteropServices;
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

    /// <summary>Room for one SCM_RIGHTS control message with one descriptor (CMSG_SPACE(4) is 24 on x86_64).</summary>
    private struct ControlBuffer
    {
        public fixed byte Bytes[32];
    }

    /// <summary>A message of one data byte with room for one descriptor.</summary>
    private static void Prepare(byte* data, iovec* iov, byte* control, msghdr* msg)
    {
        var space = (int)LibC.CMSG_SPACE(sizeof(int));
        new Span<byte>(control, space).Clear();
        *iov = new iovec { iov_base = data, iov_len = 1 };
        *msg = new msghdr { msg_iov = iov, msg_iovlen = 1, msg_control = control, msg_controllen = space };
    }

    /// <summary>Sends <paramref name="fd"/> (with one byte of data) on the socket <paramref name="socket"/>.</summary>
    public static void Send(int socket, int fd)
    {
        byte data = 0;
        iovec iov;
        ControlBuffer control;
        msghdr msg;
        Prepare(&data, &iov, control.Bytes, &msg);
        var cmsg = LibC.CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = LibC.SOL_SOCKET;
        cmsg->cmsg_type = LibC.SCM_RIGHTS;
        cmsg->cmsg_len = LibC.CMSG_LEN(sizeof(int));
        *(int*)LibC.CMSG_DATA(cmsg) = fd;
        while (LibC.sendmsg(socket, &msg, 0) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != ErrnoNames.EINTR)
            {
                throw new LinuxException("sendmsg SCM_RIGHTS", null, errno);
            }
        }
    }

    /// <summary>Receives one descriptor (close-on-exec) from the socket; null when the peer closed it without sending one.</summary>
    public static SafeFileHandle? Receive(SafeFileHandle socket)
    {
        byte data = 0;
        iovec iov;
        ControlBuffer control;
        msghdr msg;
        Prepare(&data, &iov, control.Bytes, &msg);
        var added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            long n;
            while ((n = LibC.recvmsg((int)socket.DangerousGetHandle(), &msg, LibC.MSG_CMSG_CLOEXEC)) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != ErrnoNames.EINTR)
                {
                    throw new LinuxException("recvmsg SCM_RIGHTS", null, errno);
                }
            }

            var cmsg = LibC.CMSG_FIRSTHDR(&msg);
            if (n == 0 || cmsg == null || cmsg->cmsg_level != LibC.SOL_SOCKET || cmsg->cmsg_type != LibC.SCM_RIGHTS)
            {
                return null;
            }

            return new SafeFileHandle(*(int*)LibC.CMSG_DATA(cmsg), ownsHandle: true);
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }
}
