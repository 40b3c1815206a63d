namespace NodeAgent.Cgroups;

/// <summary>The cgroup v1 → v2 CPU conversion runc applies when a runtime asks for shares on a v2 host.</summary>
public static class CpuWeight
{
    private const long MinShares = 2;
    private const long MaxShares = 262144;

    /// <summary>cgroup v2 cpu.weight from v1 shares: <c>1 + ((shares - 2) * 9999) / 262142</c>.</summary>
    public static long FromShares(long shares)
    {
        if (shares == 0)
        {
            return 0;
        }

        shares = Math.Clamp(shares, MinShares, MaxShares);
        return 1 + ((shares - 2) * 9999) / 262142;
    }
}
