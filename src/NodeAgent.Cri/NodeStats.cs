namespace NodeAgent.Cri;

/// <summary>The node's own readings: CPU and memory of the whole machine (/proc), host interfaces, the filesystem
/// of the state directory, process limits.</summary>
public sealed record NodeStats
{
    public required CpuUsage Cpu { get; init; }

    public required MemoryUsage Memory { get; init; }

    /// <summary>MemAvailable of /proc/meminfo.</summary>
    public ulong MemoryAvailableBytes { get; init; }

    public IReadOnlyList<InterfaceStats> Network { get; init; } = [];

    /// <summary>The filesystem holding the runtime's state (kubelet's node fs).</summary>
    public FilesystemStats? RootFs { get; init; }

    /// <summary>kernel.pid_max.</summary>
    public ulong MaxPid { get; init; }

    /// <summary>Tasks running on the node (as sysinfo's procs).</summary>
    public ulong CurrentProcesses { get; init; }

    /// <summary>When the node booted.</summary>
    public DateTimeOffset BootTime { get; init; }
}
