namespace NodeAgent.Linux;

/// <summary>
/// The mount that holds a path and its propagation, from <c>/proc/self/mountinfo</c>'s optional fields
/// (<c>shared:N</c>, <c>master:N</c>): what containerd checks before a HostToContainer (shared or slave) or
/// Bidirectional (shared) mount, and what kubelet's MakeRShared changes.
/// </summary>
public sealed record MountPropagationState(string MountPoint, bool Shared, bool Slave)
{
    /// <summary>The mount holding <paramref name="path"/> (the longest mount point that is a prefix of its real path).</summary>
    /// <exception cref="IOException">mountinfo cannot be read or has no mount for it.</exception>
    public static MountPropagationState Of(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            full = Directory.ResolveLinkTarget(full, returnFinalTarget: true)?.FullName ?? full;
        }
        catch (IOException)
        {
            // Not a link, or a dangling one: the path as given.
        }

        MountPropagationState? best = null;
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            // id parent major:minor root mountpoint options [optional fields…] - fstype source superoptions
            var fields = line.Split(' ');
            if (fields.Length < 7)
            {
                continue;
            }

            var mountPoint = Mounts.UnescapeMountInfo(fields[4]);
            if (!Covers(mountPoint, full) || (best is not null && mountPoint.Length < best.MountPoint.Length))
            {
                continue;
            }

            bool shared = false, slave = false;
            for (var i = 6; i < fields.Length && fields[i] != "-"; i++)
            {
                shared |= fields[i].StartsWith("shared:", StringComparison.Ordinal);
                slave |= fields[i].StartsWith("master:", StringComparison.Ordinal);
            }

            // A later line for the same mount point is a mount stacked on top: it is the one that counts.
            best = new MountPropagationState(mountPoint, shared, slave);
        }

        return best ?? throw new IOException($"no mount holds {path} in /proc/self/mountinfo");
    }

    /// <summary>kubelet's MakeRShared: bind <paramref name="directory"/> onto itself unless it is a mount point, then
    /// make it shared, recursively. Nothing when it is a shared mount point already.</summary>
    /// <returns>True when it changed something.</returns>
    public static bool MakeRShared(string directory)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        var state = Of(full);
        if (state.MountPoint == full && state.Shared)
        {
            return false;
        }

        if (state.MountPoint != full)
        {
            Mounts.Bind(full, full);
        }

        Mounts.SetPropagation(full, MountFlags.Shared);
        return true;
    }

    private static bool Covers(string mountPoint, string path) =>
        mountPoint == "/" || path == mountPoint || path.StartsWith(mountPoint + "/", StringComparison.Ordinal);
}
