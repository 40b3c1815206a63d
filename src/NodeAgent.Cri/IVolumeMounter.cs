namespace NodeAgent.Cri;

/// <summary>
/// The mounts the kubelet's volume plugins need on the host (kubelet's <c>mount.Interface</c> for memory-backed
/// volumes): a tmpfs under a secret or projected volume's directory so its content never reaches a disk, and its
/// unmount when the pod goes. The runtime's side implements it with the system calls the kubelet may not make.
/// </summary>
public interface IVolumeMounter
{
    /// <summary>
    /// Mounts a tmpfs (nosuid, nodev, mode 0755) on <paramref name="directory"/>, an existing directory, unless a
    /// filesystem is mounted there already (a set-up repeated on every sync, or after an agent restart).
    /// </summary>
    /// <returns>True when it mounted one now.</returns>
    /// <exception cref="IOException">The directory is missing or the mount failed (the message names both).</exception>
    bool EnsureTmpfs(string directory);

    /// <summary>True when a filesystem other than its parent's is mounted on <paramref name="directory"/>.</summary>
    bool IsMountPoint(string directory);

    /// <summary>Unmounts what is mounted on <paramref name="directory"/>; false when nothing was or it is gone.</summary>
    /// <exception cref="IOException">The unmount failed (busy, not permitted).</exception>
    bool Unmount(string directory);
}
