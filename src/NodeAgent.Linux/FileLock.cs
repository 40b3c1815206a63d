using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>
/// An exclusive flock(2) on a file, shared by every process using the same state directory. Each acquisition opens
/// its own descriptor, so two holders in one process exclude each other as two processes do.
/// </summary>
public sealed class FileLock : IDisposable
{
    private const int LOCK_EX = 2;
    private const int LOCK_NB = 4;
    private readonly SafeFileHandle _handle;

    private FileLock(SafeFileHandle handle, string path)
    {
        _handle = handle;
        Path = path;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>Blocks until the lock is held. Hold it briefly: it serialises the CLI and the daemon.</summary>
    public static FileLock Acquire(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var handle = Open(path, create: true)!;
        try
        {
            Lock(handle, path, LOCK_EX);
            return new FileLock(handle, path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Takes the lock without blocking any thread-pool thread: at once when it is free; otherwise a dedicated thread
    /// waits in flock(2) (the kernel wakes it; nothing polls). Cancelling abandons the wait: should the thread get
    /// the lock afterwards it releases it at once. The lock file is created when missing; with
    /// <paramref name="create"/> false its directory is not, and a missing directory (the object it guards was
    /// removed) gives null.
    /// </summary>
    public static Task<FileLock?> TryAcquireAsync(string path, bool create, CancellationToken cancellationToken)
    {
        if (create)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        }

        var handle = Open(path, create);
        if (handle is null)
        {
            return Task.FromResult<FileLock?>(null);
        }

        try
        {
            if (TryLock(handle, path))
            {
                return Task.FromResult<FileLock?>(new FileLock(handle, path));
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        return WaitOnDedicatedThread(handle, path, cancellationToken);
    }

    /// <summary>Waits for the lock without blocking a thread-pool thread (see <see cref="TryAcquireAsync"/>).</summary>
    public static async Task<FileLock> AcquireAsync(string path, CancellationToken cancellationToken) =>
        (await TryAcquireAsync(path, create: true, cancellationToken).ConfigureAwait(false))!;

    private static Task<FileLock?> WaitOnDedicatedThread(SafeFileHandle handle, string path, CancellationToken cancellationToken)
    {
        var result = new TaskCompletionSource<FileLock?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var registration = cancellationToken.Register(() => result.TrySetCanceled(cancellationToken));
        var thread = new Thread(() =>
        {
            try
            {
                Lock(handle, path, LOCK_EX);
                if (!result.TrySetResult(new FileLock(handle, path)))
                {
                    handle.Dispose(); // cancelled meanwhile: let the next waiter have it
                }
            }
            catch (LinuxException ex)
            {
                handle.Dispose();
                result.TrySetException(ex);
            }
            finally
            {
                registration.Dispose();
            }
        }, 64 * 1024)
        {
            IsBackground = true,
            Name = "nodeagent-flock",
        };
        thread.Start();
        return result.Task;
    }

    private static SafeFileHandle? Open(string path, bool create)
    {
        // Opened with open(2), not File.OpenHandle: .NET takes a non-blocking flock of its own on every file it opens,
        // which would fail while another process holds this lock.
        var fd = Libc.Open(path, Tmds.Linux.LibC.O_RDWR | Tmds.Linux.LibC.O_CREAT | Tmds.Linux.LibC.O_CLOEXEC, 0x180 /* 0600 */);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (!create && errno == ErrnoNames.ENOENT)
            {
                return null;
            }

            throw new LinuxException("open", path, errno);
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    private static bool TryLock(SafeFileHandle handle, string path)
    {
        while (Libc.Flock((int)handle.DangerousGetHandle(), LOCK_EX | LOCK_NB) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == ErrnoNames.EAGAIN /* EWOULDBLOCK */)
            {
                return false;
            }

            if (errno != ErrnoNames.EINTR)
            {
                throw new LinuxException("flock", path, errno);
            }
        }

        return true;
    }

    private static void Lock(SafeFileHandle handle, string path, int operation)
    {
        while (Libc.Flock((int)handle.DangerousGetHandle(), operation) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != ErrnoNames.EINTR)
            {
                throw new LinuxException("flock", path, errno);
            }
        }
    }

    public void Dispose() => _handle.Dispose();
}
