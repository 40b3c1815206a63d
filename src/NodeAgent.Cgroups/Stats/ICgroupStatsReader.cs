namespace NodeAgent.Cgroups.Stats;

/// <summary>
/// Reads the counters of cgroups for the stats service: every interface file through one reusable buffer, absolute
/// paths computed once per cgroup. Not thread-safe: one reader per collector, used by one caller at a time.
/// </summary>
public interface ICgroupStatsReader
{
    /// <summary>
    /// Fills <paramref name="usage"/> from the cgroup at <paramref name="relativePath"/> (relative to the manager's
    /// root). False when the cgroup does not exist (or vanished in the middle of the read): the caller skips it.
    /// <paramref name="cfs"/> false skips the CFS period counters (cpu.stat on v1), which mean nothing without a quota.
    /// </summary>
    bool TryRead(string relativePath, CgroupUsage usage, bool cfs = true);

    /// <summary>The cgroup's name as cAdvisor's <c>id</c> label shows it: its path from the hierarchy root, with a leading slash.</summary>
    string IdOf(string relativePath);

    /// <summary>Forgets the cached paths of cgroups not read since the previous sweep (call once per collection).</summary>
    void Sweep();
}
