using System.Text.Json.Serialization;

namespace NodeAgent.Kubelet.Stats.Summary;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(StatsSummary))]
public sealed partial class SummaryJsonContext : JsonSerializerContext;
