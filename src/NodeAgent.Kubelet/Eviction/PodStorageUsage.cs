namespace NodeAgent.Kubelet.Eviction;

/// <summary>
/// One pod's local storage as the eviction manager reads it from the stats already collected (kubelet's summary
/// PodStats): each volume's used bytes by volume name, and each running container's writable layer and logs.
/// </summary>
public sealed record PodStorageUsage(IReadOnlyDictionary<string, ulong> Volumes, IReadOnlyList<ContainerStorageUsage> Containers);

/// <summary>A running container's writable layer (rootfs) and log bytes; null until first measured.</summary>
public sealed record ContainerStorageUsage(string Name, ulong? RootfsBytes, ulong? LogsBytes)
{
    /// <summary>kubelet's containerEphemeralStorageLimitEviction without a dedicated image filesystem: logs plus rootfs.</summary>
    public ulong Used => (RootfsBytes ?? 0) + (LogsBytes ?? 0);
}
