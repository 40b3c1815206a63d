namespace NodeAgent.Linux;

/// <summary>What statvfs(2) says about the filesystem holding a path, in bytes and inodes.</summary>
public readonly record struct FilesystemUsage(ulong CapacityBytes, ulong FreeBytes, ulong AvailableBytes, ulong Inodes, ulong InodesFree);
