using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace NodeAgent.Linux;

/// <summary>
/// Reading files that may not be regular without blocking on them: stat(2) following symlinks, and open(2) with
/// O_NONBLOCK (a FIFO opens at once instead of waiting for a writer) then fstat(2) on the descriptor, so the caller
/// reads only what was a regular file when opened.
/// </summary>
public static class RegularFiles
{
    /// <summary>stat(2) of <paramref name="path"/>, following symlinks; false with the errno (ENOENT for a dangling
    /// link, ELOOP for a loop, EACCES…) when it fails.</summary>
    public static unsafe bool TryStat(string path, out FileStatus status, out int errno)
    {
        stat buffer;
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            if (stat(p, &buffer) != 0)
            {
                errno = Marshal.GetLastPInvokeError();
                status = default;
                return false;
            }
        }

        errno = 0;
        status = ToStatus(buffer);
        return true;
    }

    /// <summary>Opens <paramref name="path"/> read-only, non-blocking, close-on-exec, without becoming its controlling
    /// terminal, and returns the descriptor with its fstat(2). The caller checks <see cref="FileStatus.Kind"/>.</summary>
    /// <exception cref="LinuxException">open or fstat failed.</exception>
    public static unsafe SafeFileHandle OpenNonBlocking(string path, out FileStatus status)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = bytes)
        {
            fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
        }

        if (fd < 0)
        {
            throw new LinuxException("open", path, Marshal.GetLastPInvokeError());
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        stat buffer;
        if (fstat(fd, &buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new LinuxException("fstat", path, errno);
        }

        status = ToStatus(buffer);
        return handle;
    }

    private static FileStatus ToStatus(in stat s)
    {
        var kind = ((uint)s.st_mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0x2000 => FileKind.CharDevice,
            0x6000 => FileKind.BlockDevice,
            0x1000 => FileKind.Fifo,
            0xC000 => FileKind.Socket,
            _ => FileKind.Other,
        };
        return new FileStatus(kind, (ulong)s.st_dev, (ulong)s.st_ino, (long)s.st_size,
            ((long)s.st_mtim.tv_sec * 1_000_000_000) + (long)s.st_mtim.tv_nsec,
            ((long)s.st_ctim.tv_sec * 1_000_000_000) + (long)s.st_ctim.tv_nsec);
    }
}
