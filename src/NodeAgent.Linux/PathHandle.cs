using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace NodeAgent.Linux;

/// <summary>
/// A descriptor of one file or directory (usually <c>O_PATH</c>): it names the object itself, so renaming or
/// replacing a path component afterwards cannot redirect it. Bind-mount it with <see cref="Mounts.BindHandle"/>.
/// </summary>
public sealed class PathHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private PathHandle()
        : base(ownsHandle: true)
    {
    }

    /// <summary>The type of the object, from fstat(2) at open time.</summary>
    public FileKind Kind { get; private init; }

    /// <summary>The permission bits (including setuid, setgid, sticky) at open time.</summary>
    public uint Mode { get; private init; }

    internal int Fd => (int)handle;

    /// <summary>Where the kernel says the object is now (readlink of its /proc/self/fd entry), for messages and tests.</summary>
    public string CurrentPath => new FileInfo($"/proc/self/fd/{Fd}").LinkTarget ?? "?";

    /// <summary>Takes ownership of <paramref name="fd"/> (closed on failure).</summary>
    internal static unsafe PathHandle Own(int fd, string what)
    {
        stat st;
        if (LibC.fstat(fd, &st) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            LibC.close(fd);
            throw new LinuxException("fstat", what, errno);
        }

        var mode = (uint)(ushort)st.st_mode;
        var result = new PathHandle
        {
            Kind = (mode & 0xF000) switch
            {
                0x8000 => FileKind.Regular,
                0x4000 => FileKind.Directory,
                0x2000 => FileKind.CharDevice,
                0x6000 => FileKind.BlockDevice,
                0x1000 => FileKind.Fifo,
                0xC000 => FileKind.Socket,
                _ => FileKind.Other,
            },
            Mode = mode & 0xFFF,
        };
        result.SetHandle(fd);
        return result;
    }

    protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;
}
