using NodeAgent.Linux;

namespace NodeAgent.Network.Netlink;

/// <summary>The kernel refused a netlink request; the message names the request, the object and the errno.</summary>
public sealed class NetlinkException(string operation, string target, int errno)
    : IOException($"netlink {operation} {target}: {LinuxException.Describe(errno)}")
{
    public const int EEXIST = 17, ENODEV = 19, ENOENT = 2, ESRCH = 3, EADDRNOTAVAIL = 99;

    public int Errno { get; } = errno;
}
