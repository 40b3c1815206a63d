using NodeAgent.Cgroups;
using NodeAgent.Cri;

namespace NodeAgent.Runtime.Containers;

/// <summary>The CRI's resources as the cgroup driver takes them.</summary>
public static class CgroupResourcesMapping
{
    public static CgroupResources ToCgroup(this LinuxContainerResources r, IReadOnlyList<string>? deviceRules = null) => new()
    {
        CpuShares = r.CpuShares,
        CpuQuotaMicros = r.CpuQuotaMicros,
        CpuPeriodMicros = r.CpuPeriodMicros,
        MemoryLimitBytes = r.MemoryLimitBytes,
        PidsLimit = r.PidsLimit,
        DeviceRules = deviceRules,
    };
}
