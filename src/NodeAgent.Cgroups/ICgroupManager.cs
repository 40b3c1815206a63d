using NodeAgent.Cgroups.Stats;

namespace NodeAgent.Cgroups;

public enum CgroupVersion { V1, V2 }

/// <summary>
/// The cgroupfs driver over one host's hierarchy (v1, or v2 unified). Paths are relative to the manager's
/// root (for example <c>kubepods/burstable/pod&lt;uid&gt;/&lt;container&gt;</c>).
/// </summary>
public interface ICgroupManager
{
    CgroupVersion Version { get; }

    /// <summary>Creates the cgroup (and missing parents) or updates it, then applies the resources.</summary>
    ICgroup CreateOrUpdate(string relativePath, CgroupResources resources);

    /// <summary>Opens an existing cgroup; null when it does not exist.</summary>
    ICgroup? Open(string relativePath);

    /// <summary>Removes the cgroup and its child cgroups; processes still inside are killed first.</summary>
    void Remove(string relativePath);

    /// <summary>A reader of this hierarchy's counters for the stats service (one per collector; not thread-safe).</summary>
    ICgroupStatsReader CreateStatsReader();
}
