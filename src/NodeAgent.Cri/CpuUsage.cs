namespace NodeAgent.Cri;

/// <summary>Cumulative CPU counters of a cgroup (the CRI's CpuUsage plus the CFS counters cAdvisor exposes).</summary>
public sealed record CpuUsage(ulong UsageNanos, ulong Periods, ulong ThrottledPeriods, ulong ThrottledNanos);
