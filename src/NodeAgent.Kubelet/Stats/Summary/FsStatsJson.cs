using System.Text.Json.Serialization;

namespace NodeAgent.Kubelet.Stats.Summary;

/// <summary>stats/v1alpha1 FsStats (VolumeStats embeds it: <see cref="VolumeStatsJson"/>).</summary>
public record FsStatsJson
{
    [JsonPropertyName("time")] public required string Time { get; init; }
    [JsonPropertyName("availableBytes")] public ulong? AvailableBytes { get; init; }
    [JsonPropertyName("capacityBytes")] public ulong? CapacityBytes { get; init; }
    [JsonPropertyName("usedBytes")] public ulong? UsedBytes { get; init; }
    [JsonPropertyName("inodesFree")] public ulong? InodesFree { get; init; }
    [JsonPropertyName("inodes")] public ulong? Inodes { get; init; }
    [JsonPropertyName("inodesUsed")] public ulong? InodesUsed { get; init; }
}
