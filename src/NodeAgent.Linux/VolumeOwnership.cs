using System.Runtime.InteropServices;
using NodeAgent.Linux.Interop;
using Tmds.Linux;

namespace NodeAgent.Linux;

/// <summary>
/// kubelet's SetVolumeOwnership (a pod's <c>fsGroup</c> on its volumes) done by descriptors: the tree is walked with
/// each entry opened <c>O_PATH | O_NOFOLLOW</c> beneath its parent's descriptor, so a container that writes the
/// volume cannot turn a name into a link that sends the walk (or a chown or chmod) anywhere else. Links get the group
/// themselves and keep their mode (a chmod would reach their target); every other entry gets the group and the
/// group bits (rw, or r for a read-only volume), directories also setgid and group execute.
/// </summary>
public static class VolumeOwnership
{
    private const uint GroupReadWrite = 0x1B0, GroupReadOnly = 0x120, Execute = 0x48, SetGid = 0x400; // 0660, 0440, 0110, 02000
    private const int AT_EMPTY_PATH = 0x1000;

    /// <summary>How deep the walk goes (one descriptor is open per level); entries below are left as they are.</summary>
    public const int MaxDepth = 512;

    /// <summary>Walks <paramref name="directory"/> (see the type); with <paramref name="onRootMismatch"/> nothing is
    /// done when the root already has the group, the bits and setgid (kubelet's requiresPermissionChange).</summary>
    /// <returns>False when the walk was skipped.</returns>
    /// <exception cref="LinuxException">The root cannot be opened or changed.</exception>
    public static bool Set(string directory, uint gid, bool readOnly, bool onRootMismatch)
    {
        var fd = LinuxException.ThrowIfError(Libc.Open(directory, LibC.O_PATH | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0), "open", directory);
        using var root = PathHandle.Own(fd, directory);
        var wanted = readOnly ? GroupReadOnly : GroupReadWrite;
        if (onRootMismatch && !RequiresChange(root, gid, wanted))
        {
            return false;
        }

        Change(root, gid, wanted, directory, throwOnError: true);
        if (root.Kind == FileKind.Directory)
        {
            Walk(root, gid, wanted, directory, 1);
        }

        return true;
    }

    /// <summary>kubelet's requiresPermissionChange: anything but a directory with the group, the bits and setgid.</summary>
    private static unsafe bool RequiresChange(PathHandle root, uint gid, uint wanted)
    {
        stat st;
        if (LibC.fstat(root.Fd, &st) != 0 || root.Kind != FileKind.Directory)
        {
            return true;
        }

        var mode = (uint)(ushort)st.st_mode;
        var bits = wanted | Execute;
        return (uint)st.st_gid != gid || (mode & bits) != bits || (mode & SetGid) == 0;
    }

    private static void Walk(PathHandle directory, uint gid, uint wanted, string what, int depth)
    {
        if (depth > MaxDepth)
        {
            return;
        }

        List<string> names;
        try
        {
            // The listing reads the opened directory through its descriptor's /proc entry, never the path.
            names = [.. Directory.EnumerateFileSystemEntries($"/proc/self/fd/{directory.Fd}").Select(Path.GetFileName).OfType<string>()];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // Gone or unreadable meanwhile: nothing to change below it.
        }

        foreach (var name in names)
        {
            var child = OpenChild(directory, name);
            if (child is null)
            {
                continue;
            }

            using (child)
            {
                var path = what + "/" + name;
                Change(child, gid, wanted, path, throwOnError: false);
                if (child.Kind == FileKind.Directory)
                {
                    Walk(child, gid, wanted, path, depth + 1);
                }
            }
        }
    }

    /// <summary>The entry itself (a link is not followed); null when it vanished.</summary>
    private static unsafe PathHandle? OpenChild(PathHandle parent, string name)
    {
        int fd;
        fixed (byte* p = FileSystemOps.NativePath(name))
        {
            fd = LibC.openat(parent.Fd, p, LibC.O_PATH | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0);
        }

        if (fd < 0)
        {
            return null;
        }

        try
        {
            return PathHandle.Own(fd, name);
        }
        catch (LinuxException)
        {
            return null;
        }
    }

    private static unsafe void Change(PathHandle entry, uint gid, uint wanted, string what, bool throwOnError)
    {
        // chown of the object the descriptor names (a link itself), the owner unchanged.
        var empty = stackalloc byte[1];
        empty[0] = 0;
        if (LibC.fchownat(entry.Fd, empty, uint.MaxValue, gid, AT_EMPTY_PATH) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (throwOnError)
            {
                throw new LinuxException("chown", what, errno);
            }

            return;
        }

        if (entry.Kind == FileKind.Other)
        {
            return; // A symbolic link: its mode means nothing, and a chmod would change its target.
        }

        var mode = entry.Mode | wanted | (entry.Kind == FileKind.Directory ? SetGid | Execute : 0);
        // chmod through the descriptor's /proc entry reaches exactly the opened inode (O_PATH descriptors refuse fchmod).
        if (Libc.Chmod($"/proc/self/fd/{entry.Fd}", mode) != 0 && throwOnError)
        {
            throw new LinuxException("chmod", what, Marshal.GetLastPInvokeError());
        }
    }
}
