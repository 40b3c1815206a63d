using System.Text.Json.Serialization;

namespace NodeAgent.Kubelet.Stats.Summary;

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
