namespace NodeAgent.Cri;

/// <summary>
/// What the kubelet's volume plugins need of the host beyond plain file I/O (kubelet's <c>mount.Interface</c> for
/// memory-backed volumes, and the atomic writer's rename): a tmpfs under a secret or projected volume's directory so
/// its content never reaches a disk, its unmount when the pod goes, and rename(2) of a symbolic link over another
/// (the <c>..data</c> swap; the base class library refuses to move a link to a directory), and the group
/// ownership a pod's <c>fsGroup</c> asks for. The runtime's side
/// implements it with the system calls the kubelet may not make.
/// </summary>
public interface IVolumeHost
{
    /// <summary>
    /// Mounts a tmpfs (nosuid, nodev, mode 0755) on <paramref name="directory"/>, an existing directory, unless a
    /// filesystem is mounted there already (a set-up repeated on every sync, or after an agent restart).
    /// </summary>
    /// <returns>True when it mounted one now.</returns>
    /// <exception cref="IOException">The directory is missing or the mount failed (the message names both).</exception>
    bool EnsureTmpfs(string directory);

    /// <summary>kubelet's emptyDir <c>medium: Memory</c>: a tmpfs with only <c>size=</c><paramref name="sizeBytes"/>
    /// (its root 1777, as any tmpfs') on <paramref name="directory"/>, unless something is mounted there already.</summary>
    /// <returns>True when it mounted one now.</returns>
    /// <exception cref="IOException">The directory is missing or the mount failed.</exception>
    bool EnsureEmptyDirTmpfs(string directory, ulong sizeBytes);

    /// <summary>Unmounts every filesystem mounted at or below <paramref name="directory"/>, deepest first (a pod's
    /// volumes before its directory is removed: a tmpfs, or a mount a container propagated back), so that removing
    /// the directory never reaches into another filesystem.</summary>
    /// <returns>How many were unmounted.</returns>
    /// <exception cref="IOException">An unmount failed (busy, not permitted).</exception>
    int UnmountAllUnder(string directory);

    /// <summary>
    /// kubelet's SetVolumeOwnership for a pod's <c>fsGroup</c>: every entry of the tree at <paramref name="directory"/>
    /// gets group <paramref name="gid"/> (links themselves, never followed), group read (and write unless
    /// <paramref name="readOnly"/>) bits, and directories setgid and group execute. The walk goes by descriptors,
    /// each entry opened beneath its parent without following links, because containers write these trees.
    /// With <paramref name="onRootMismatch"/> (<c>fsGroupChangePolicy: OnRootMismatch</c>) nothing is walked when the
    /// root already has the group, the bits and setgid.
    /// </summary>
    /// <returns>False when the walk was skipped (the root matched).</returns>
    /// <exception cref="IOException">The root cannot be opened. Entries that vanish or fail are skipped.</exception>
    bool SetVolumeOwnership(string directory, uint gid, bool readOnly, bool onRootMismatch);

    /// <summary>kubelet's MakeRShared of its root directory: <paramref name="directory"/> becomes a mount point (a bind
    /// of itself when it is not one) with shared propagation, so a container's Bidirectional mount reaches the host
    /// and the host's mounts reach HostToContainer ones. Nothing is done when it is shared already.</summary>
    /// <returns>True when it changed something.</returns>
    /// <exception cref="IOException">The mount failed.</exception>
    bool MakeRShared(string directory);

    /// <summary>True when a filesystem other than its parent's is mounted on <paramref name="directory"/>.</summary>
    bool IsMountPoint(string directory);

    /// <summary>Unmounts what is mounted on <paramref name="directory"/>; false when nothing was or it is gone.</summary>
    /// <exception cref="IOException">The unmount failed (busy, not permitted).</exception>
    bool Unmount(string directory);

    /// <summary>rename(2): <paramref name="source"/> (a symbolic link is renamed itself, never followed) replaces
    /// <paramref name="destination"/> atomically.</summary>
    /// <exception cref="IOException">The rename failed (the message names both paths).</exception>
    void Rename(string source, string destination);

    /// <summary>lchown(2) to group <paramref name="gid"/>, the owner unchanged, never following a link (kubelet's
    /// fsGroup ownership of a volume's files).</summary>
    /// <exception cref="IOException">The change failed.</exception>
    void SetGroup(string path, uint gid);
}
