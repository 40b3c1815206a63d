using System.Text.Json.Serialization;

namespace NodeAgent.Kubelet.Stats.Summary;

public sealed record CpuStatsJson
{
    [JsonPropertyName("time")] public required string Time { get; init; }
    [JsonPropertyName("usageNanoCores")] public ulong? UsageNanoCores { get; init; }
    [JsonPropertyName("usageCoreNanoSeconds")] public ulong? UsageCoreNanoSeconds { get; init; }
}
