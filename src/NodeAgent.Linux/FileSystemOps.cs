using System.Runtime.InteropServices;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>File operations .NET lacks: ownership without following links, extended attributes, hard links, whiteouts.</summary>
public static class FileSystemOps
{
    public static void Lchown(string path, uint uid, uint gid) =>
        LinuxException.ThrowIfError(Libc.Lchown(path, uid, gid), "lchown", path);

    public static void SetXattr(string path, string name, byte[] value) =>
        LinuxException.ThrowIfError(Libc.Lsetxattr(path, name, value, (nuint)value.Length, 0), $"setxattr {name} on", path);

    /// <summary>Reads an extended attribute; null when the file does not have it.</summary>
    public static byte[]? GetXattr(string path, string name)
    {
        var buffer = new byte[4096];
        var n = Libc.Lgetxattr(path, name, buffer, (nuint)buffer.Length);
        if (n < 0)
        {
            const int ENODATA = 61;
            var errno = Marshal.GetLastPInvokeError();
            if (errno == ENODATA)
            {
                return null;
            }

            throw new LinuxException($"getxattr {name} of", path, errno);
        }

        return buffer.AsSpan(0, (int)n).ToArray();
    }

    public static void HardLink(string existing, string link) =>
        LinuxException.ThrowIfError(Libc.Link(existing, link), "link", link + " => " + existing);

    /// <summary>An overlayfs whiteout: a character device 0:0.</summary>
    public static void MakeWhiteout(string path) => ProcessControl.MakeDevice(path, character: true, mode: 0, major: 0, minor: 0);

    /// <summary>Marks a directory opaque for overlayfs: lower layers' contents are hidden.</summary>
    public static void MakeOpaque(string directory) => SetXattr(directory, "trusted.overlay.opaque", "y"u8.ToArray());
}
