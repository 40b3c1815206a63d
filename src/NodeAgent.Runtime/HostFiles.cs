using Microsoft.Win32.SafeHandles;
using NodeAgent.Cri;
using NodeAgent.Linux;

namespace NodeAgent.Runtime;

/// <summary><see cref="IHostFiles"/> over stat(2) and non-blocking open(2), its mounts through
/// <see cref="VolumeHost"/> (NodeAgent.Linux).</summary>
public sealed class HostFiles : IHostFiles
{
    public static HostFiles Instance { get; } = new();

    public HostFileKind KindOf(string path) => ToKind(FileSystemOps.KindOf(path));

    public HostFileStatus? Stat(string path, out string? problem)
    {
        if (!RegularFiles.TryStat(path, out var status, out var errno))
        {
            problem = errno switch
            {
                ErrnoNames.ENOENT => "a dangling symbolic link",
                ErrnoNames.ELOOP => "a symbolic link loop",
                _ => $"cannot stat it: {LinuxException.Describe(errno)}",
            };
            return null;
        }

        problem = null;
        return ToStatus(status);
    }

    public SafeFileHandle OpenNonBlocking(string path, out HostFileStatus status)
    {
        var handle = RegularFiles.OpenNonBlocking(path, out var s);
        status = ToStatus(s);
        return handle;
    }

    public bool EnsureTmpfs(string directory) => VolumeHost.Instance.EnsureTmpfs(directory);

    public bool EnsureEmptyDirTmpfs(string directory, ulong sizeBytes) => VolumeHost.Instance.EnsureEmptyDirTmpfs(directory, sizeBytes);

    public int UnmountAllUnder(string directory) => VolumeHost.Instance.UnmountAllUnder(directory);

    public bool SetVolumeOwnership(string directory, uint gid, bool readOnly, bool onRootMismatch) =>
        VolumeHost.Instance.SetVolumeOwnership(directory, gid, readOnly, onRootMismatch);

    public bool MakeRShared(string directory) => VolumeHost.Instance.MakeRShared(directory);

    public bool IsMountPoint(string directory) => VolumeHost.Instance.IsMountPoint(directory);

    public bool Unmount(string directory) => VolumeHost.Instance.Unmount(directory);

    public void Rename(string source, string destination) => VolumeHost.Instance.Rename(source, destination);

    public void SetGroup(string path, uint gid) => VolumeHost.Instance.SetGroup(path, gid);

    private static HostFileStatus ToStatus(FileStatus s) =>
        new(ToKind(s.Kind), s.Device, s.Inode, s.Size, s.ModifiedNanoseconds, s.ChangedNanoseconds);

    private static HostFileKind ToKind(FileKind kind) => kind switch
    {
        FileKind.Missing => HostFileKind.Missing,
        FileKind.Regular => HostFileKind.Regular,
        FileKind.Directory => HostFileKind.Directory,
        FileKind.CharDevice => HostFileKind.CharDevice,
        FileKind.BlockDevice => HostFileKind.BlockDevice,
        FileKind.Fifo => HostFileKind.Fifo,
        FileKind.Socket => HostFileKind.Socket,
        _ => HostFileKind.Other,
    };
}
