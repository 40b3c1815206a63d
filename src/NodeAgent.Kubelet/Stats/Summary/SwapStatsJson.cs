using System.Text.Json.Serialization;

namespace NodeAgent.Kubelet.Stats.Summary;

public sealed record SwapStatsJson(
    [property: JsonPropertyName("time")] string Time,
    [property: JsonPropertyName("swapAvailableBytes")] ulong? SwapAvailableBytes,
    [property: JsonPropertyName("swapUsageBytes")] ulong? SwapUsageBytes);
