using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Stats;

/// <summary>
/// One cgroup's series in <c>/metrics/cadvisor</c>: its label sets encoded once per snapshot, split where cAdvisor's
/// sorted label order puts the extra labels (<c>cpu</c>/<c>device</c> after <c>container</c>, <c>interface</c> after
/// <c>image</c>), and its readings.
/// </summary>
internal sealed record CadvisorSeries
{
    /// <summary><c>container="…"</c></summary>
    public required byte[] Container { get; init; }

    /// <summary><c>id="…",image="…"</c></summary>
    public required byte[] IdImage { get; init; }

    /// <summary><c>name="…",namespace="…",pod="…"</c></summary>
    public required byte[] NameNamespacePod { get; init; }

    public required CpuUsage Cpu { get; init; }

    public required MemoryUsage Memory { get; init; }

    public IReadOnlyList<InterfaceStats> Network { get; init; } = [];

    public IReadOnlyList<DiskIoStats> DiskIo { get; init; } = [];

    public FsUsage? Fs { get; init; }

    public ulong? Processes { get; init; }

    public ulong? Threads { get; init; }

    public double StartTimeSeconds { get; init; }

    /// <summary>The spec; null for the machine's root series.</summary>
    public LinuxContainerResources? Limits { get; init; }

    public long TimestampMs { get; init; }
}
