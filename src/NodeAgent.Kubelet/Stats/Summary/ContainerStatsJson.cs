using System.Text.Json.Serialization;

namespace NodeAgent.Kubelet.Stats.Summary;

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
