namespace NodeAgent.Linux;

/// <summary>What stat(2) says about a file: its type and what identifies one version of its content.</summary>
/// <param name="Kind">The file type.</param>
/// <param name="Device">st_dev.</param>
/// <param name="Inode">st_ino.</param>
/// <param name="Size">st_size in bytes.</param>
/// <param name="ModifiedNanoseconds">st_mtim in nanoseconds since the epoch.</param>
/// <param name="ChangedNanoseconds">st_ctim in nanoseconds since the epoch.</param>
public readonly record struct FileStatus(FileKind Kind, ulong Device, ulong Inode, long Size, long ModifiedNanoseconds, long ChangedNanoseconds);
