using System.Text.Json.Serialization;

namespace NodeAgent.Kubelet.Stats.Summary;

public sealed record PodStatsJson
{
    [JsonPropertyName("podRef")] public required PodReferenceJson PodRef { get; init; }
    [JsonPropertyName("startTime")] public required string StartTime { get; init; }
    [JsonPropertyName("containers")] public required IReadOnlyList<ContainerStatsJson> Containers { get; init; }
    [JsonPropertyName("cpu")] public CpuStatsJson? Cpu { get; init; }
    [JsonPropertyName("memory")] public MemoryStatsJson? Memory { get; init; }
    [JsonPropertyName("network")] public NetworkStatsJson? Network { get; init; }
    [JsonPropertyName("volume")] public IReadOnlyList<VolumeStatsJson>? Volume { get; init; }
    [JsonPropertyName("ephemeral-storage")] public FsStatsJson? EphemeralStorage { get; init; }
    [JsonPropertyName("process_stats")] public ProcessStatsJson? ProcessStats { get; init; }
    [JsonPropertyName("swap")] public SwapStatsJson? Swap { get; init; }
}
