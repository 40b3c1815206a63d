namespace NodeAgent.Cgroups;

/// <summary>kubelet's cgroupfs names and CPU conversions.</summary>
public static class KubepodsLayout
{
    public const string Root = "kubepods";
    public const long CpuPeriodMicros = 100_000;
    public const long MinShares = 2;
    public const long MinQuotaMicros = 1000;

    /// <summary><c>kubepods/pod&lt;uid&gt;</c>, <c>kubepods/burstable/pod&lt;uid&gt;</c> or <c>kubepods/besteffort/pod&lt;uid&gt;</c>.</summary>
    public static string PodCgroup(QosClass qos, string podUid) => qos switch
    {
        QosClass.Guaranteed => $"{Root}/pod{podUid}",
        QosClass.Burstable => $"{Root}/burstable/pod{podUid}",
        _ => $"{Root}/besteffort/pod{podUid}",
    };

    public static string ContainerCgroup(string podCgroup, string containerId) => $"{podCgroup}/{containerId}";

    /// <summary>cpu.shares from a CPU request in millicores: <c>max(2, milli*1024/1000)</c>; 2 without a request.</summary>
    public static long SharesFromMilliCpu(long? milliCpu) =>
        milliCpu is { } m && m > 0 ? Math.Max(MinShares, m * 1024 / 1000) : MinShares;

    /// <summary>CFS quota from a CPU limit in millicores, at least 1000 µs; null without a limit.</summary>
    public static long? QuotaFromMilliCpu(long? milliCpu, long period = CpuPeriodMicros) =>
        milliCpu is { } m && m > 0 ? Math.Max(MinQuotaMicros, m * period / 1000) : null;

    /// <summary>cgroup v2 cpu.weight from v1 shares: <c>1 + (shares - 2) * 9999 / 262142</c>.</summary>
    public static long WeightFromShares(long shares) => 1 + ((Math.Clamp(shares, 2, 262144) - 2) * 9999 / 262142);
}
