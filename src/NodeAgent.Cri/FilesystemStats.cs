namespace NodeAgent.Cri;

/// <summary>A filesystem's size and free space (statvfs).</summary>
public sealed record FilesystemStats(string Device, string Mountpoint, ulong CapacityBytes, ulong AvailableBytes, ulong UsedBytes, ulong Inodes, ulong InodesFree);
