using System.Text.Json.Serialization;

namespace NodeAgent.Kubelet.Stats.Summary;

public sealed record ProcessStatsJson([property: JsonPropertyName("process_count")] ulong? ProcessCount);
