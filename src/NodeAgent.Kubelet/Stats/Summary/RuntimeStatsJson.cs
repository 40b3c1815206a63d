using System.Text.Json.Serialization;

namespace NodeAgent.Kubelet.Stats.Summary;

public sealed record RuntimeStatsJson(
    [property: JsonPropertyName("imageFs")] FsStatsJson? ImageFs,
    [property: JsonPropertyName("containerFs")] FsStatsJson? ContainerFs);
