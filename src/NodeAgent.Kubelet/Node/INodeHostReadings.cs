namespace NodeAgent.Kubelet.Node;

/// <summary>The host facts node status is made of (cadvisor's MachineInfo and the eviction manager's signals).</summary>
public interface INodeHostReadings
{
    /// <summary>What does not change while the agent runs.</summary>
    NodeMachineInfo Machine();

    /// <summary>The figures the pressure conditions are computed from, read now.</summary>
    NodeResourceReadings Read();
}

/// <summary>cadvisor's MachineInfo and the system facts of <c>nodeInfo</c>.</summary>
public sealed record NodeMachineInfo
{
    public required int Cpus { get; init; }

    public required long MemoryBytes { get; init; }

    /// <summary>Hugepage pools by page size in bytes: total bytes of each pool.</summary>
    public required IReadOnlyDictionary<long, long> HugePages { get; init; }

    public required string MachineId { get; init; }

    public required string SystemUuid { get; init; }

    public required string BootId { get; init; }

    public required string KernelVersion { get; init; }

    public required string OsImage { get; init; }

    /// <summary>Go's GOARCH name (amd64, arm64…).</summary>
    public required string Architecture { get; init; }
}

/// <summary>Eviction signals: memory.available, nodefs (the root dir's filesystem), pid.available.</summary>
public sealed record NodeResourceReadings
{
    public required long MemoryAvailableBytes { get; init; }

    public required long NodeFsCapacityBytes { get; init; }

    public required long NodeFsAvailableBytes { get; init; }

    public required long PidMax { get; init; }

    public required long PidsInUse { get; init; }
}
