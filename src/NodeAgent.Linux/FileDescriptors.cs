using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using NodeAgent.Linux.Interop;
using Tmds.Linux;

namespace NodeAgent.Linux;

/// <summary>Raw descriptor plumbing for process set-up: pipes, close-on-exec, redirection.</summary>
public static class FileDescriptors
{
    /// <summary>A pipe whose read end is close-on-exec and whose write end is inherited by children.</summary>
    public static unsafe (SafeFileHandle Read, SafeFileHandle Write) CreateInheritablePipe()
    {
        var fds = stackalloc int[2];
        LinuxException.ThrowIfError(LibC.pipe2(fds, 0), "pipe2");
        SetCloseOnExec(fds[0], true);
        return (new SafeFileHandle(fds[0], ownsHandle: true), new SafeFileHandle(fds[1], ownsHandle: true));
    }

    /// <summary>A pipe with both ends close-on-exec (a spawned child gets an end through dup2, which clears the flag).</summary>
    public static unsafe (SafeFileHandle Read, SafeFileHandle Write) CreatePipe()
    {
        var fds = stackalloc int[2];
        LinuxException.ThrowIfError(LibC.pipe2(fds, LibC.O_CLOEXEC), "pipe2");
        return (new SafeFileHandle(fds[0], ownsHandle: true), new SafeFileHandle(fds[1], ownsHandle: true));
    }

    /// <summary>A second, close-on-exec descriptor for the same open file (fcntl F_DUPFD_CLOEXEC).</summary>
    public static SafeFileHandle Duplicate(SafeFileHandle handle)
    {
        const int F_DUPFD_CLOEXEC = 1030;
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            var fd = LinuxException.ThrowIfError(LibC.fcntl((int)handle.DangerousGetHandle(), F_DUPFD_CLOEXEC, 3), "fcntl F_DUPFD_CLOEXEC");
            return new SafeFileHandle(fd, ownsHandle: true);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>dup2: makes <paramref name="target"/> refer to the open file of <paramref name="handle"/> (not close-on-exec).</summary>
    public static void DuplicateOnto(SafeFileHandle handle, int target)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            LinuxException.ThrowIfError(LibC.dup2((int)handle.DangerousGetHandle(), target), "dup2 onto", target.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    public static void SetCloseOnExec(int fd, bool value)
    {
        const int F_GETFD = 1, F_SETFD = 2, FD_CLOEXEC = 1;
        var flags = LinuxException.ThrowIfError(LibC.fcntl(fd, F_GETFD), "fcntl F_GETFD");
        flags = value ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
        LinuxException.ThrowIfError(LibC.fcntl(fd, F_SETFD, flags), "fcntl F_SETFD");
    }

    /// <summary>Points each of the given descriptors at /dev/null.</summary>
    public static void RedirectToDevNull(params int[] fds)
    {
        var devNull = LinuxException.ThrowIfError(Libc.Open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0), "open", "/dev/null");
        foreach (var fd in fds)
        {
            LinuxException.ThrowIfError(LibC.dup2(devNull, fd), "dup2 /dev/null onto", fd.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        LibC.close(devNull);
    }

    /// <summary>Points <paramref name="fd"/> at a file opened for appending (created when missing).</summary>
    public static void RedirectToFile(int fd, string path)
    {
        var file = LinuxException.ThrowIfError(Libc.Open(path, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_APPEND | LibC.O_CLOEXEC, 0x1a4 /* 0644 */), "open", path);
        LinuxException.ThrowIfError(LibC.dup2(file, fd), "dup2 onto", fd.ToString(System.Globalization.CultureInfo.InvariantCulture));
        LibC.close(file);
    }

    /// <summary>Writes all of <paramref name="data"/> to a raw descriptor.</summary>
    public static unsafe void WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            var done = 0;
            while (done < data.Length)
            {
                var n = (long)LibC.write(fd, p + done, data.Length - done);
                if (n < 0)
                {
                    if (Marshal.GetLastSystemError() == ErrnoNames.EINTR) // Tmds' write is declared without SetLastError
                    {
                        continue;
                    }

                    return;
                }

                done += (int)n;
            }
        }
    }

    /// <summary>One read(2) (of a pipe poll found readable, say); the count, 0 at end of file.</summary>
    public static unsafe int Read(SafeHandle handle, Span<byte> buffer)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            fixed (byte* p = buffer)
            {
                while (true)
                {
                    var n = (long)LibC.read((int)handle.DangerousGetHandle(), p, buffer.Length);
                    if (n >= 0)
                    {
                        return (int)n;
                    }

                    var errno = Marshal.GetLastSystemError(); // Tmds' read is declared without SetLastError
                    if (errno != ErrnoNames.EINTR)
                    {
                        throw new LinuxException("read", null, errno);
                    }
                }
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }
}
