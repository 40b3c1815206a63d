using System.Runtime.InteropServices;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>Brings the loopback interface of the calling thread's network namespace up.</summary>
public static class Loopback
{
    public static unsafe void BringUp()
    {
        const int AF_INET = 2, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000;
        const nuint SIOCGIFFLAGS = 0x8913, SIOCSIFFLAGS = 0x8914;
        const short IFF_UP = 0x1;
        var fd = LinuxException.ThrowIfError(Tmds.Linux.LibC.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket");
        try
        {
            var ifr = stackalloc byte[40];
            new Span<byte>(ifr, 40).Clear();
            ifr[0] = (byte)'l';
            ifr[1] = (byte)'o';
            if (Libc.Ioctl(fd, SIOCGIFFLAGS, ifr) != 0)
            {
                throw new LinuxException("ioctl SIOCGIFFLAGS", "lo", Marshal.GetLastPInvokeError());
            }

            *(short*)(ifr + 16) |= IFF_UP;
            if (Libc.Ioctl(fd, SIOCSIFFLAGS, ifr) != 0)
            {
                throw new LinuxException("ioctl SIOCSIFFLAGS up", "lo", Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            Tmds.Linux.LibC.close(fd);
        }
    }
}
