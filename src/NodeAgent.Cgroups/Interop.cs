using System.Runtime.InteropServices;

namespace NodeAgent.Cgroups;

/// <summary>The few libc calls the cgroupfs driver needs to see the kernel's errno exactly.</summary>
internal static partial class Interop
{
    internal const int O_WRONLY = 0x1;
    internal const int O_TRUNC = 0x200;
    internal const int O_CLOEXEC = 0x80000;
    internal const int SIGKILL = 9;
    internal const short POLLIN = 0x1;

    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int open(string path, int flags, int mode);

    [LibraryImport("libc", SetLastError = true)]
    internal static unsafe partial nint write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rmdir(string path);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mkdir(string path, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int kill(int pid, int signal);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int pidfd_open(int pid, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    internal static unsafe partial int poll(PollFd* fds, nuint count, int timeoutMs);
}
