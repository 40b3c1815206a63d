using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>An exclusive flock(2) on a file, shared by every process using the same state directory.</summary>
public sealed class FileLock : IDisposable
{
    private readonly SafeFileHandle _handle;

    private FileLock(SafeFileHandle handle) => _handle = handle;

    /// <summary>Blocks until the lock is held. Hold it briefly: it serialises the CLI and the daemon.</summary>
    public static FileLock Acquire(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Opened with open(2), not File.OpenHandle: .NET takes a non-blocking flock of its own on every file it opens,
        // which would fail while another process holds this lock.
        var fd = Libc.Open(path, Tmds.Linux.LibC.O_RDWR | Tmds.Linux.LibC.O_CREAT | Tmds.Linux.LibC.O_CLOEXEC, 0x180 /* 0600 */);
        if (fd < 0)
        {
            throw new LinuxException("open", path, Marshal.GetLastPInvokeError());
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        const int LOCK_EX = 2;
        while (Libc.Flock((int)handle.DangerousGetHandle(), LOCK_EX) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != ErrnoNames.EINTR)
            {
                handle.Dispose();
                throw new LinuxException("flock", path, errno);
            }
        }

        return new FileLock(handle);
    }

    /// <summary>Waits for the lock on a pool thread, so callers on async paths do not block theirs.</summary>
    public static Task<FileLock> AcquireAsync(string path, CancellationToken cancellationToken) =>
        Task.Run(() => Acquire(path), cancellationToken);

    public void Dispose() => _handle.Dispose();
}
