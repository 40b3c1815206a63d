using System.Text.Json.Serialization;

// kubelet's stats/v1alpha1 Summary (k8s.io/kubelet/pkg/apis/stats/v1alpha1), field names as its JSON tags. Only
// the fields NodeAgent fills are declared; absent ones are left out of the JSON as kubelet's omitempty does.
#pragma warning disable SA1402, SA1649 // the Summary's small records stay together, as the API's types.go keeps them
namespace NodeAgent.Kubelet.Stats.Summary;

public sealed record StatsSummary(
    [property: JsonPropertyName("node")] NodeStatsJson Node,
    [property: JsonPropertyName("pods")] IReadOnlyList<PodStatsJson> Pods);

public sealed record NodeStatsJson
{
    [JsonPropertyName("nodeName")] public required string NodeName { get; init; }
    [JsonPropertyName("startTime")] public required string StartTime { get; init; }
    [JsonPropertyName("cpu")] public CpuStatsJson? Cpu { get; init; }
    [JsonPropertyName("memory")] public MemoryStatsJson? Memory { get; init; }
    [JsonPropertyName("network")] public NetworkStatsJson? Network { get; init; }
    [JsonPropertyName("fs")] public FsStatsJson? Fs { get; init; }
    [JsonPropertyName("runtime")] public RuntimeStatsJson? Runtime { get; init; }
    [JsonPropertyName("rlimit")] public RlimitStatsJson? Rlimit { get; init; }
    [JsonPropertyName("swap")] public SwapStatsJson? Swap { get; init; }
}

public sealed record PodStatsJson
{
    [JsonPropertyName("podRef")] public required PodReferenceJson PodRef { get; init; }
    [JsonPropertyName("startTime")] public required string StartTime { get; init; }
    [JsonPropertyName("containers")] public required IReadOnlyList<ContainerStatsJson> Containers { get; init; }
    [JsonPropertyName("cpu")] public CpuStatsJson? Cpu { get; init; }
    [JsonPropertyName("memory")] public MemoryStatsJson? Memory { get; init; }
    [JsonPropertyName("network")] public NetworkStatsJson? Network { get; init; }
    [JsonPropertyName("ephemeral-storage")] public FsStatsJson? EphemeralStorage { get; init; }
    [JsonPropertyName("process_stats")] public ProcessStatsJson? ProcessStats { get; init; }
    [JsonPropertyName("swap")] public SwapStatsJson? Swap { get; init; }
}

public sealed record PodReferenceJson(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("namespace")] string Namespace,
    [property: JsonPropertyName("uid")] string Uid);

public sealed record ContainerStatsJson
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("startTime")] public required string StartTime { get; init; }
    [JsonPropertyName("cpu")] public CpuStatsJson? Cpu { get; init; }
    [JsonPropertyName("memory")] public MemoryStatsJson? Memory { get; init; }
    [JsonPropertyName("rootfs")] public FsStatsJson? Rootfs { get; init; }
    [JsonPropertyName("logs")] public FsStatsJson? Logs { get; init; }
    [JsonPropertyName("swap")] public SwapStatsJson? Swap { get; init; }
}

public sealed record CpuStatsJson
{
    [JsonPropertyName("time")] public required string Time { get; init; }
    [JsonPropertyName("usageNanoCores")] public ulong? UsageNanoCores { get; init; }
    [JsonPropertyName("usageCoreNanoSeconds")] public ulong? UsageCoreNanoSeconds { get; init; }
}

public sealed record MemoryStatsJson
{
    [JsonPropertyName("time")] public required string Time { get; init; }
    [JsonPropertyName("availableBytes")] public ulong? AvailableBytes { get; init; }
    [JsonPropertyName("usageBytes")] public ulong? UsageBytes { get; init; }
    [JsonPropertyName("workingSetBytes")] public ulong? WorkingSetBytes { get; init; }
    [JsonPropertyName("rssBytes")] public ulong? RssBytes { get; init; }
    [JsonPropertyName("pageFaults")] public ulong? PageFaults { get; init; }
    [JsonPropertyName("majorPageFaults")] public ulong? MajorPageFaults { get; init; }
}

/// <summary>kubelet's NetworkStats: the default interface's counters inline, then every interface.</summary>
public sealed record NetworkStatsJson
{
    [JsonPropertyName("time")] public required string Time { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("rxBytes")] public ulong? RxBytes { get; init; }
    [JsonPropertyName("rxErrors")] public ulong? RxErrors { get; init; }
    [JsonPropertyName("txBytes")] public ulong? TxBytes { get; init; }
    [JsonPropertyName("txErrors")] public ulong? TxErrors { get; init; }
    [JsonPropertyName("interfaces")] public IReadOnlyList<InterfaceStatsJson>? Interfaces { get; init; }
}

public sealed record InterfaceStatsJson(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("rxBytes")] ulong RxBytes,
    [property: JsonPropertyName("rxErrors")] ulong RxErrors,
    [property: JsonPropertyName("txBytes")] ulong TxBytes,
    [property: JsonPropertyName("txErrors")] ulong TxErrors);

public sealed record FsStatsJson
{
    [JsonPropertyName("time")] public required string Time { get; init; }
    [JsonPropertyName("availableBytes")] public ulong? AvailableBytes { get; init; }
    [JsonPropertyName("capacityBytes")] public ulong? CapacityBytes { get; init; }
    [JsonPropertyName("usedBytes")] public ulong? UsedBytes { get; init; }
    [JsonPropertyName("inodesFree")] public ulong? InodesFree { get; init; }
    [JsonPropertyName("inodes")] public ulong? Inodes { get; init; }
    [JsonPropertyName("inodesUsed")] public ulong? InodesUsed { get; init; }
}

public sealed record RuntimeStatsJson(
    [property: JsonPropertyName("imageFs")] FsStatsJson? ImageFs,
    [property: JsonPropertyName("containerFs")] FsStatsJson? ContainerFs);

public sealed record RlimitStatsJson(
    [property: JsonPropertyName("time")] string Time,
    [property: JsonPropertyName("maxpid")] ulong? MaxPid,
    [property: JsonPropertyName("curproc")] ulong? CurProc);

public sealed record SwapStatsJson(
    [property: JsonPropertyName("time")] string Time,
    [property: JsonPropertyName("swapAvailableBytes")] ulong? SwapAvailableBytes,
    [property: JsonPropertyName("swapUsageBytes")] ulong? SwapUsageBytes);

public sealed record ProcessStatsJson([property: JsonPropertyName("process_count")] ulong? ProcessCount);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(StatsSummary))]
public sealed partial class SummaryJsonContext : JsonSerializerContext;
