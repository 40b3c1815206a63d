using System.Runtime.InteropServices;
using NodeAgent.Images.Interop;

namespace NodeAgent.Images;

/// <summary>An exclusive <c>flock</c> on a lock file, shared by every process using one root. The file is
/// opened with open(2) directly because FileStream takes its own advisory flock.</summary>
internal sealed class FileLock : IDisposable
{
    private int _fd;

    private FileLock(int fd) => _fd = fd;

    public static FileLock Acquire(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var fd = Libc.open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0b110_000_000);
        if (fd < 0)
        {
            Libc.Check(-1, "open lock file", path);
        }
        while (Libc.flock(fd, Libc.LOCK_EX) != 0)
        {
            if (Marshal.GetLastPInvokeError() != Libc.EINTR)
            {
                var errno = Marshal.GetLastPInvokeError();
                Libc.close(fd);
                throw new ImageException(ImageErrorKind.Io, $"flock {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
            }
        }
        return new FileLock(fd);
    }

    /// <summary>Takes the lock on a thread-pool thread so a waiting caller does not block its own thread.</summary>
    public static Task<FileLock> AcquireAsync(string path, CancellationToken cancellationToken) =>
        Task.Run(() => Acquire(path), cancellationToken);

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Libc.close(fd); // closing the descriptor releases the flock
        }
    }
}
