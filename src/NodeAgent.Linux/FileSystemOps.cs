using System.Runtime.InteropServices;
using NodeAgent.Linux.Interop;
using Tmds.Linux;

namespace NodeAgent.Linux;

/// <summary>File operations .NET lacks: ownership without following links, extended attributes, hard links, whiteouts.</summary>
public static class FileSystemOps
{
    public static void Lchown(string path, uint uid, uint gid) =>
        LinuxException.ThrowIfError(Libc.Lchown(path, uid, gid), "lchown", path);

    public static void SetXattr(string path, string name, byte[] value) =>
        LinuxException.ThrowIfError(Libc.Lsetxattr(path, name, value, (nuint)value.Length, 0), $"setxattr {name} on", path);

    public static void HardLink(string existing, string link) =>
        LinuxException.ThrowIfError(Libc.Link(existing, link), "link", link + " => " + existing);

    public const uint S_IFIFO = 0x1000, S_IFCHR = 0x2000, S_IFBLK = 0x6000;

    /// <summary>The type of the file at <paramref name="path"/> (following symlinks), or <see cref="FileKind.Missing"/>.</summary>
    public static unsafe FileKind KindOf(string path)
    {
        var buffer = stackalloc byte[256];
        if (Libc.Stat(path, buffer) != 0)
        {
            return FileKind.Missing;
        }

        return (*(uint*)(buffer + 24) & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0x2000 => FileKind.CharDevice,
            0x6000 => FileKind.BlockDevice,
            0x1000 => FileKind.Fifo,
            0xC000 => FileKind.Socket,
            _ => FileKind.Other,
        };
    }

    /// <summary>mknod(2) with the file type in <paramref name="typeAndMode"/> (S_IFCHR, S_IFBLK or S_IFIFO).</summary>
    public static void MakeNode(string path, uint typeAndMode, uint major, uint minor) =>
        LinuxException.ThrowIfError(Libc.Mknod(path, typeAndMode, MakeDev(major, minor)), "mknod", path);

    public static ulong MakeDev(uint major, uint minor) =>
        ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8) | ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);

    /// <summary>chmod(2): the permission bits including setuid, setgid and sticky (File.SetUnixFileMode drops nothing, but takes an enum).</summary>
    public static void Chmod(string path, uint mode) => LinuxException.ThrowIfError(Libc.Chmod(path, mode), "chmod", path);

    /// <summary>rename(2): replaces <paramref name="newPath"/> atomically; a symbolic link is renamed itself, never
    /// followed (File.Move refuses a link to a directory as "not found").</summary>
    public static void Rename(string oldPath, string newPath) =>
        LinuxException.ThrowIfError(Libc.Rename(oldPath, newPath), $"rename {oldPath} to", newPath);

    /// <summary>Sets access and modification time without following a final symlink.</summary>
    public static unsafe void SetTimesNoFollow(string path, DateTime utc)
    {
        const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;
        var ticks = utc.Ticks - DateTime.UnixEpoch.Ticks;
        var times = stackalloc long[4];
        times[0] = times[2] = ticks / TimeSpan.TicksPerSecond;
        times[1] = times[3] = ticks % TimeSpan.TicksPerSecond * 100;
        LinuxException.ThrowIfError(Libc.Utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW), "utimensat", path);
    }

    /// <summary>
    /// Writes <paramref name="data"/> to an existing file with one open(2) and one write(2), as kernel interface files
    /// (cgroupfs, procfs, sysfs) need: the kernel's verdict on the value is that write's errno. The exception's
    /// <see cref="LinuxException.Operation"/> is "open" or "write".
    /// </summary>
    public static unsafe void WriteOnce(string path, ReadOnlySpan<byte> data)
    {
        var fd = LinuxException.ThrowIfError(Libc.Open(path, LibC.O_WRONLY | LibC.O_TRUNC | LibC.O_CLOEXEC, 0), "open", path);
        try
        {
            fixed (byte* p = data)
            {
                LinuxException.ThrowIfError((nint)(long)LibC.write(fd, p, data.Length), "write", path);
            }
        }
        finally
        {
            LibC.close(fd);
        }
    }

    /// <summary>mkdir(2) of one directory; false when something already exists there (EEXIST).</summary>
    public static unsafe bool MakeDirectory(string path, uint mode)
    {
        fixed (byte* p = NativePath(path))
        {
            if (LibC.mkdir(p, (ushort)mode) == 0)
            {
                return true;
            }
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == ErrnoNames.EEXIST ? false : throw new LinuxException("mkdir", path, errno);
    }

    /// <summary>rmdir(2); false when the directory is already gone (ENOENT). EBUSY and others throw with their errno.</summary>
    public static unsafe bool RemoveDirectory(string path)
    {
        fixed (byte* p = NativePath(path))
        {
            if (LibC.rmdir(p) == 0)
            {
                return true;
            }
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == ErrnoNames.ENOENT ? false : throw new LinuxException("rmdir", path, errno);
    }

    internal static byte[] NativePath(string path) => System.Text.Encoding.UTF8.GetBytes(path + "\0");

    /// <summary>An overlayfs whiteout: a character device 0:0.</summary>
    public static void MakeWhiteout(string path) => MakeNode(path, S_IFCHR, 0, 0);

    /// <summary>Marks a directory opaque for overlayfs: lower layers' contents are hidden.</summary>
    public static void MakeOpaque(string directory) => SetXattr(directory, "trusted.overlay.opaque", "y"u8.ToArray());
}

/// <summary>A file's type as stat(2) reports it.</summary>
public enum FileKind { Missing, Regular, Directory, CharDevice, BlockDevice, Fifo, Socket, Other }
