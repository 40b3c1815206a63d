using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace NodeAgent.Kubelet.Stats.Summary;

/// <summary>stats/v1alpha1 VolumeStats: FsStats inline, and the volume's name.</summary>
public sealed record VolumeStatsJson : FsStatsJson
{
    public VolumeStatsJson()
    {
    }

    [SetsRequiredMembers]
    public VolumeStatsJson(FsStatsJson fs, string name)
        : base(fs)
    {
        Name = name;
    }

    [JsonPropertyName("name")] public required string Name { get; init; }
}
