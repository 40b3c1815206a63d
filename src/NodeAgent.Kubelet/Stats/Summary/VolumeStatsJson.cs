using System.Text.Json.Serialization;

namespace NodeAgent.Kubelet.Stats.Summary;

/// <summary>stats/v1alpha1 VolumeStats: a volume's FsStats and its name.</summary>
public sealed record VolumeStatsJson
{
    [JsonPropertyName("time")] public required string Time { get; init; }
    [JsonPropertyName("availableBytes")] public ulong? AvailableBytes { get; init; }
    [JsonPropertyName("capacityBytes")] public ulong? CapacityBytes { get; init; }
    [JsonPropertyName("usedBytes")] public ulong? UsedBytes { get; init; }
    [JsonPropertyName("inodesFree")] public ulong? InodesFree { get; init; }
    [JsonPropertyName("inodes")] public ulong? Inodes { get; init; }
    [JsonPropertyName("inodesUsed")] public ulong? InodesUsed { get; init; }
    [JsonPropertyName("name")] public required string Name { get; init; }
}
