namespace NodeAgent.Cri;

/// <summary>
/// Space a container uses on a filesystem (the CRI's FilesystemUsage): measured in the background at a slower cadence
/// than the counters, so <see cref="Timestamp"/> says when.
/// </summary>
public sealed record FsUsage(string Device, ulong UsedBytes, ulong InodesUsed, DateTimeOffset Timestamp);
