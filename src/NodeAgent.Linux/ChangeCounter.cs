using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>
/// A change counter shared by every process on one state directory: a file whose size is the number of changes.
/// <see cref="Increment"/> appends one byte with <c>O_APPEND</c> (atomic between processes) and returns the new size;
/// <see cref="Read"/> is one fstat(2). A process that compares the size after its own increment with the size it
/// last knew plus one learns whether anybody else changed something meanwhile.
/// </summary>
public sealed class ChangeCounter : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly string _path;

    private ChangeCounter(SafeFileHandle handle, string path)
    {
        _handle = handle;
        _path = path;
    }

    public static ChangeCounter Open(string path)
    {
        var fd = Libc.Open(path, Tmds.Linux.LibC.O_WRONLY | Tmds.Linux.LibC.O_APPEND | Tmds.Linux.LibC.O_CREAT | Tmds.Linux.LibC.O_CLOEXEC, 0x180 /* 0600 */);
        if (fd < 0)
        {
            throw new LinuxException("open", path, Marshal.GetLastPInvokeError());
        }

        return new ChangeCounter(new SafeFileHandle(fd, ownsHandle: true), path);
    }

    /// <summary>The number of changes so far.</summary>
    public long Read() => RandomAccess.GetLength(_handle);

    /// <summary>Counts one change and returns the count including it.</summary>
    public unsafe long Increment()
    {
        byte one = (byte)'.';
        while (Tmds.Linux.LibC.write((int)_handle.DangerousGetHandle(), &one, 1) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != ErrnoNames.EINTR)
            {
                throw new LinuxException("write", _path, errno);
            }
        }

        return Read();
    }

    public void Dispose() => _handle.Dispose();
}
