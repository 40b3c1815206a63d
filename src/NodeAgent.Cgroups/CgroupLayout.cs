namespace NodeAgent.Cgroups;

/// <summary>What <c>/proc/self/mountinfo</c> says about a host's cgroups.</summary>
/// <param name="Version">V2 on a pure unified host, V1 on legacy or hybrid hosts.</param>
/// <param name="UnifiedMount">Where a cgroup2 hierarchy is mounted (the root on pure v2, <c>/sys/fs/cgroup/unified</c> on hybrid hosts), or null.</param>
/// <param name="V1Controllers">v1 controller name → mount point; co-mounted controllers map to the same mount.</param>
public sealed record CgroupLayout(CgroupVersion Version, string? UnifiedMount, IReadOnlyDictionary<string, string> V1Controllers);
