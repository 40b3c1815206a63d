using System.Text.Json.Serialization;

namespace NodeAgent.Kubelet.Stats.Summary;

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
