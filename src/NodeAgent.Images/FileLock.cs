using NodeAgent.Images.Interop;

namespace NodeAgent.Images;

/// <summary>An exclusive <c>flock</c> on a lock file, shared by every process using one root.</summary>
internal sealed class FileLock : IDisposable
{
    private readonly FileStream _file;

    private FileLock(FileStream file) => _file = file;

    public static FileLock Acquire(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        var fd = (int)file.SafeFileHandle.DangerousGetHandle();
        while (Libc.flock(fd, Libc.LOCK_EX) != 0)
        {
            if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != Libc.EINTR)
            {
                file.Dispose();
                Libc.Check(-1, "flock", path);
            }
        }
        return new FileLock(file);
    }

    /// <summary>Takes the lock on a thread-pool thread so a waiting caller does not block its own thread.</summary>
    public static Task<FileLock> AcquireAsync(string path, CancellationToken cancellationToken) =>
        Task.Run(() => Acquire(path), cancellationToken);

    public void Dispose() => _file.Dispose(); // closing the descriptor releases the flock
}
