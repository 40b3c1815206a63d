using System.Text.Json.Serialization;

namespace NodeAgent.Kubelet.Stats.Summary;

public sealed record InterfaceStatsJson(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("rxBytes")] ulong RxBytes,
    [property: JsonPropertyName("rxErrors")] ulong RxErrors,
    [property: JsonPropertyName("txBytes")] ulong TxBytes,
    [property: JsonPropertyName("txErrors")] ulong TxErrors);
