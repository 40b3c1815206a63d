using System.Text.Json.Serialization;

namespace NodeAgent.Kubelet.Stats.Summary;

public sealed record RlimitStatsJson(
    [property: JsonPropertyName("time")] string Time,
    [property: JsonPropertyName("maxpid")] ulong? MaxPid,
    [property: JsonPropertyName("curproc")] ulong? CurProc);
