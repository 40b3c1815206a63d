using System.Text.Json.Serialization;

namespace NodeAgent.Kubelet.Stats.Summary;

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
