using System.Runtime.InteropServices;
using NodeAgent.Linux.Interop;
using Tmds.Linux;

namespace NodeAgent.Linux;

/// <summary>
/// Opens a path beneath a directory whose content someone else controls (a volume a container writes), so that no
/// symlink or <c>..</c> in it can lead outside: the kernel resolves it with openat2(2) <c>RESOLVE_BENEATH |
/// RESOLVE_NO_MAGICLINKS</c>. Symlinks that stay beneath the directory are followed, as kubelet's subPath code does
/// (it evaluates symlinks, then refuses a result outside the volume); an absolute symlink, one that climbs out, a
/// loop or a /proc magic link fails. Missing directories are made one component at a time with mkdirat(2) beneath
/// a descriptor, each reopened with <c>RESOLVE_NO_SYMLINKS</c>, as kubelet's doSafeMakeDir does.
/// Needs Linux 5.6 (openat2).
/// </summary>
public static class PathBeneath
{
    private const long RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04, RESOLVE_BENEATH = 0x08;
    private const nint SYS_openat2 = 437;

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    /// <summary>
    /// An <c>O_PATH</c> handle of <paramref name="relative"/> beneath <paramref name="root"/> (the root itself is
    /// trusted and may be reached through symlinks). With <paramref name="createMissingDirectories"/>, missing
    /// components are created as directories with the root's permission bits first.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="relative"/> is absolute, has a <c>..</c> or a NUL.</exception>
    /// <exception cref="LinuxException">The kernel refused: EXDEV (resolves outside the root), ELOOP (symlink loop, or a
    /// symlink where a directory was to be created), ENOENT (dangling), ENOTDIR…; the target names path and root.</exception>
    public static PathHandle Open(string root, string relative, bool createMissingDirectories = false)
    {
        var parts = Components(relative);
        using var rootHandle = PathHandle.Own(
            LinuxException.ThrowIfError(Libc.Open(root, LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0), "open", root), root);
        if (createMissingDirectories)
        {
            MakeMissingDirectories(rootHandle, root, parts);
        }

        var path = parts.Length == 0 ? "." : string.Join('/', parts);
        var fd = OpenAt2(rootHandle.Fd, path, LibC.O_PATH | LibC.O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
        return fd >= 0
            ? PathHandle.Own(fd, Describe(path, root))
            : throw new LinuxException("openat2 (beneath)", Describe(path, root), Marshal.GetLastPInvokeError());
    }

    /// <summary>
    /// Opens the existing file <paramref name="relative"/> beneath <paramref name="root"/> for writing, following no
    /// symlink at all (kernel interface trees such as <c>/proc/sys</c> have none a writer should follow).
    /// </summary>
    public static Microsoft.Win32.SafeHandles.SafeFileHandle OpenForWriting(string root, string relative)
    {
        var parts = Components(relative);
        using var rootHandle = PathHandle.Own(
            LinuxException.ThrowIfError(Libc.Open(root, LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0), "open", root), root);
        var path = string.Join('/', parts);
        var fd = OpenAt2(rootHandle.Fd, path, LibC.O_WRONLY | LibC.O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        return fd >= 0
            ? new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true)
            : throw new LinuxException("openat2 (beneath, no symlinks)", Describe(path, root), Marshal.GetLastPInvokeError());
    }

    /// <summary>The components of a relative path, without empty and <c>.</c> ones.</summary>
    public static string[] Components(string relative)
    {
        if (relative.StartsWith('/'))
        {
            throw new ArgumentException($"path \"{relative}\" must be relative", nameof(relative));
        }

        if (relative.Contains('\0'))
        {
            throw new ArgumentException($"path \"{relative.Replace("\0", "\\0", StringComparison.Ordinal)}\" contains a NUL byte", nameof(relative));
        }

        var parts = relative.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        return parts.Contains("..") ? throw new ArgumentException($"path \"{relative}\" must not contain \"..\"", nameof(relative)) : parts;
    }

    private static void MakeMissingDirectories(PathHandle root, string rootPath, string[] parts)
    {
        PathHandle? parent = null;
        try
        {
            // The longest prefix that exists (symlinks followed, beneath the root only).
            var existing = 0;
            for (; existing < parts.Length; existing++)
            {
                var prefix = string.Join('/', parts, 0, existing + 1);
                var fd = OpenAt2(root.Fd, prefix, LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
                if (fd < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == ErrnoNames.ENOENT)
                    {
                        break;
                    }

                    if (errno == ErrnoNames.ENOTDIR)
                    {
                        return; // A file where a directory would go: the final open reports it (or opens the file).
                    }

                    throw new LinuxException("openat2 (beneath)", Describe(prefix, rootPath), errno);
                }

                parent?.Dispose();
                parent = PathHandle.Own(fd, Describe(prefix, rootPath));
            }

            for (var i = existing; i < parts.Length; i++)
            {
                var made = MakeDirectoryAt(parent ?? root, parts[i], root.Mode, Describe(string.Join('/', parts, 0, i + 1), rootPath));
                // The name may have become (or been) a symlink or a file since: RESOLVE_NO_SYMLINKS (ELOOP) and O_DIRECTORY refuse both.
                var name = string.Join('/', parts, 0, i + 1);
                var fd = OpenAt2((parent ?? root).Fd, parts[i], LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC,
                    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
                if (fd < 0)
                {
                    throw new LinuxException("openat2 (no symlinks)", Describe(name, rootPath), Marshal.GetLastPInvokeError());
                }

                var child = PathHandle.Own(fd, Describe(name, rootPath));
                parent?.Dispose();
                parent = child;
                if (made)
                {
                    // mkdirat's mode went through the umask; kubelet sets the volume's bits exactly.
                    LinuxException.ThrowIfError(LibC.fchmod(child.Fd, (ushort)root.Mode), "fchmod", Describe(name, rootPath));
                }
            }
        }
        finally
        {
            parent?.Dispose();
        }
    }

    /// <summary>mkdirat(2) of one name; false when the name already exists (a race, or a dangling symlink the caller's reopen refuses).</summary>
    private static unsafe bool MakeDirectoryAt(PathHandle parent, string name, uint mode, string what)
    {
        fixed (byte* p = FileSystemOps.NativePath(name))
        {
            if (LibC.mkdirat(parent.Fd, p, (ushort)mode) == 0)
            {
                return true;
            }
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == ErrnoNames.EEXIST ? false : throw new LinuxException("mkdirat", what, errno);
    }

    /// <summary>openat2(2); retried on EAGAIN (a concurrent rename made the kernel's escape check inconclusive) and EINTR.</summary>
    private static unsafe int OpenAt2(int dirFd, string path, int flags, long resolve)
    {
        var how = new OpenHow { Flags = (ulong)(uint)flags, Mode = 0, Resolve = (ulong)resolve };
        fixed (byte* p = FileSystemOps.NativePath(path))
        {
            for (var attempt = 0; ; attempt++)
            {
                var fd = Libc.Syscall4(SYS_openat2, dirFd, (nint)p, (nint)(&how), sizeof(OpenHow));
                if (fd >= 0)
                {
                    return (int)fd;
                }

                var errno = Marshal.GetLastPInvokeError();
                if ((errno != ErrnoNames.EAGAIN && errno != ErrnoNames.EINTR) || attempt >= 64)
                {
                    Marshal.SetLastPInvokeError(errno);
                    return -1;
                }
            }
        }
    }

    private static string Describe(string path, string root) => $"{path} beneath {root}";
}
