using Microsoft.Win32.SafeHandles;

namespace NodeAgent.Cri;

/// <summary>The type of a file on the host, as kubelet's host utilities report it for hostPath type checks.</summary>
public enum HostFileKind { Missing, Regular, Directory, CharDevice, BlockDevice, Fifo, Socket, Other }

/// <summary>A file's stat(2) fields that tell whether its content may have changed (device, inode, size, mtime,
/// ctime in nanoseconds).</summary>
public readonly record struct HostFileStatus(HostFileKind Kind, ulong Device, ulong Inode, long Size, long ModifiedNanoseconds, long ChangedNanoseconds);

/// <summary>What the kubelet may ask of the host's filesystem beyond plain file I/O (kubelet's <c>hostutil</c>):
/// the runtime's side implements it with the system calls the kubelet may not make itself. It includes the
/// <see cref="IVolumeHost"/> mounts of memory-backed volumes, so one host object serves every volume plugin.</summary>
public interface IHostFiles : IVolumeHost
{
    /// <summary>The type of the file at <paramref name="path"/>, following symlinks; Missing when absent.</summary>
    HostFileKind KindOf(string path);

    /// <summary>stat(2) of <paramref name="path"/>, following symlinks; null with <paramref name="problem"/> in
    /// words ("a dangling symbolic link", "a symbolic link loop", "cannot stat it: …") when it fails.</summary>
    HostFileStatus? Stat(string path, out string? problem);

    /// <summary>Opens <paramref name="path"/> read-only without blocking (a FIFO opens at once instead of waiting for
    /// a writer) and returns the descriptor with its fstat(2): the caller reads only what is a regular file.</summary>
    /// <exception cref="IOException">The open or the fstat failed (the message names the path and the reason).</exception>
    SafeFileHandle OpenNonBlocking(string path, out HostFileStatus status);
}
