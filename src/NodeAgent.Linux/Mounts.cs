using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>mount(2), umount2(2) and pivot_root(2), with errors that name the mount.</summary>
public static class Mounts
{
    public const int DetachFlag = 2;

    public static void Mount(string? source, string target, string? fsType, MountFlags flags, string? data = null)
    {
        if (Libc.Mount(source, target, fsType, (ulong)flags, data) != 0)
        {
            var what = fsType ?? ((flags & MountFlags.Bind) != 0 ? "bind" : "remount");
            throw new LinuxException($"mount {what} {source} on", target, System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        }
    }

    public static void Bind(string source, string target, bool recursive = true, bool readOnly = false)
    {
        var flags = MountFlags.Bind | (recursive ? MountFlags.Recursive : 0);
        Mount(source, target, null, flags);
        if (readOnly)
        {
            Mount(null, target, null, MountFlags.Bind | MountFlags.Remount | MountFlags.ReadOnly | MountFlags.NoSuid | MountFlags.NoDev);
        }
    }

    /// <summary>
    /// Bind-mounts (not recursively) the object an open handle names onto <paramref name="target"/>, through its
    /// /proc/self/fd entry: what is mounted is what was opened, whatever has happened to its path since.
    /// </summary>
    public static void BindHandle(PathHandle source, string target)
    {
        var added = false;
        source.DangerousAddRef(ref added);
        try
        {
            Mount($"/proc/self/fd/{source.Fd}", target, null, MountFlags.Bind);
        }
        finally
        {
            if (added)
            {
                source.DangerousRelease();
            }
        }
    }

    public static void SetPropagation(string target, MountFlags propagation, bool recursive = true) =>
        Mount(null, target, null, propagation | (recursive ? MountFlags.Recursive : 0));

    /// <summary>Unmounts every mount at or under <paramref name="prefix"/>, deepest first (detached, so a busy one
    /// goes when its last user does).</summary>
    /// <returns>How many were unmounted.</returns>
    public static int UnmountAllUnder(string prefix)
    {
        var count = 0;
        foreach (var mountPoint in ListUnder(prefix))
        {
            if (Unmount(mountPoint, detach: true))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Unmounts; returns false when nothing is mounted there (EINVAL) or the path is gone (ENOENT).</summary>
    public static bool Unmount(string target, bool detach = false)
    {
        if (Libc.Umount2(target, detach ? DetachFlag : 0) == 0)
        {
            return true;
        }

        var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        if (errno is ErrnoNames.EINVAL or ErrnoNames.ENOENT)
        {
            return false;
        }

        throw new LinuxException("umount", target, errno);
    }

    /// <summary>Makes <paramref name="newRoot"/> the root of the calling thread's mount namespace and detaches the old root.</summary>
    public static void PivotRoot(string newRoot)
    {
        LinuxException.ThrowIfError(Libc.Chdir(newRoot), "chdir", newRoot);
        unsafe
        {
            fixed (byte* dot = "."u8)
            {
                LinuxException.ThrowIfError(Libc.Syscall2(Libc.SYS_pivot_root, (nint)dot, (nint)dot), "pivot_root", newRoot);
            }
        }

        // The old root is now stacked under the new one at "/": make it private so the unmount does not propagate.
        Mount(null, ".", null, MountFlags.Slave | MountFlags.Recursive);
        LinuxException.ThrowIfError(Libc.Umount2(".", DetachFlag), "umount old root of", newRoot);
        LinuxException.ThrowIfError(Libc.Chdir("/"), "chdir", "/");
    }

    /// <summary>Mount points at or under <paramref name="prefix"/>, deepest first (the order to unmount them in).</summary>
    public static IReadOnlyList<string> ListUnder(string prefix)
    {
        var root = Path.GetFullPath(prefix).TrimEnd('/');
        var result = new List<string>();
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ', 6);
            if (fields.Length <= 4)
            {
                continue;
            }

            var mp = UnescapeMountInfo(fields[4]);
            if (mp == root || mp.StartsWith(root + "/", StringComparison.Ordinal))
            {
                result.Add(mp);
            }
        }

        result.Reverse();
        return result;
    }

    /// <summary>The upper directories of the overlay mounts there are (their <c>upperdir=</c> option in mountinfo).</summary>
    public static IReadOnlySet<string> OverlayUpperDirs()
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var separator = line.IndexOf(" - overlay ", StringComparison.Ordinal);
            if (separator < 0)
            {
                continue;
            }

            var fields = line[(separator + 3)..].Split(' ', 3);
            foreach (var option in fields.Length == 3 ? fields[2].Split(',') : [])
            {
                if (option.StartsWith("upperdir=", StringComparison.Ordinal))
                {
                    result.Add(UnescapeMountInfo(option["upperdir=".Length..]));
                }
            }
        }

        return result;
    }

    /// <summary>A mount point as mountinfo escapes it (space, tab, newline, backslash as octal), unescaped.</summary>
    internal static string UnescapeMountInfo(string s) =>
        s.Contains('\\') ? s.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\") : s;
}
