using NodeAgent.Cri;
using NodeAgent.Linux;

namespace NodeAgent.Runtime;

/// <summary><see cref="IVolumeHost"/> over mount(2), umount2(2), stat(2), rename(2) and the descriptor-based ownership walk (NodeAgent.Linux).</summary>
public sealed class VolumeHost : IVolumeHost
{
    public static VolumeHost Instance { get; } = new();

    public bool EnsureTmpfs(string directory)
    {
        if (FileSystemOps.KindOf(directory) != FileKind.Directory)
        {
            throw new IOException($"tmpfs on {directory}: not a directory");
        }

        if (IsMountPoint(directory))
        {
            return false;
        }

        // As kubelet's memory-backed emptyDir wrapper: a plain tmpfs; nosuid and nodev because what the API server
        // sends is data, never a device or a set-uid program.
        Mounts.Mount("tmpfs", directory, "tmpfs", MountFlags.NoSuid | MountFlags.NoDev, "mode=0755");
        return true;
    }

    public bool EnsureEmptyDirTmpfs(string directory, ulong sizeBytes)
    {
        if (FileSystemOps.KindOf(directory) != FileKind.Directory)
        {
            throw new IOException($"tmpfs on {directory}: not a directory");
        }

        if (IsMountPoint(directory))
        {
            return false;
        }

        // As kubelet's emptyDir setupTmpfs: only size= (its root is then 1777, as any tmpfs', for every user of the pod).
        Mounts.Mount("tmpfs", directory, "tmpfs", 0, sizeBytes > 0 ? $"size={sizeBytes}" : null);
        return true;
    }

    public int UnmountAllUnder(string directory) => Mounts.UnmountAllUnder(directory);

    public bool SetVolumeOwnership(string directory, uint gid, bool readOnly, bool onRootMismatch) =>
        VolumeOwnership.Set(directory, gid, readOnly, onRootMismatch);

    public bool MakeRShared(string directory) => MountPropagationState.MakeRShared(directory);

    public bool IsMountPoint(string directory)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        var parent = Path.GetDirectoryName(full);
        if (parent is null)
        {
            return true;
        }

        if (!RegularFiles.TryStat(full, out var self, out _) || !RegularFiles.TryStat(parent, out var above, out _))
        {
            return false;
        }

        // A different device than the parent's is a mount; the same device and inode as the parent is a bind of it.
        return self.Device != above.Device || self.Inode == above.Inode;
    }

    public bool Unmount(string directory) => Mounts.Unmount(directory);

    public void Rename(string source, string destination) => FileSystemOps.Rename(source, destination);

    public void SetGroup(string path, uint gid) => FileSystemOps.Lchown(path, uint.MaxValue, gid);
}
