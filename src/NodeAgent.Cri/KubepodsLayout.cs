namespace NodeAgent.Cri;

/// <summary>kubelet's cgroupfs naming and CPU arithmetic (pkg/kubelet/cm: qos_container_manager, helpers_linux).</summary>
public static class KubepodsLayout
{
    public const string Root = "kubepods";
    public const long MinShares = 2;
    public const long MaxShares = 262144;
    public const long SharesPerCpu = 1024;
    public const long MilliCpuToCpu = 1000;
    public const long DefaultQuotaPeriodMicros = 100_000;
    public const long MinQuotaPeriodMicros = 1000;

    /// <summary>The cgroup of the QoS class itself: <c>kubepods</c>, <c>kubepods/burstable</c> or <c>kubepods/besteffort</c>.</summary>
    public static string QosPath(QosClass qos) => qos switch
    {
        QosClass.Guaranteed => Root,
        QosClass.Burstable => Root + "/burstable",
        QosClass.BestEffort => Root + "/besteffort",
        _ => throw new ArgumentOutOfRangeException(nameof(qos), qos, "unknown QoS class"),
    };

    /// <summary><c>kubepods[/burstable|/besteffort]/pod&lt;uid&gt;</c>.</summary>
    public static string PodPath(QosClass qos, string podUid)
    {
        ValidateName(podUid, "pod UID");
        return QosPath(qos) + "/pod" + podUid;
    }

    /// <summary><c>&lt;pod cgroup&gt;/&lt;containerId&gt;</c>.</summary>
    public static string ContainerPath(string podPath, string containerId)
    {
        ValidateName(containerId, "container ID");
        return podPath.TrimEnd('/') + "/" + containerId;
    }

    /// <summary>cpu.shares for a CPU request in millicores: <c>max(2, milli*1024/1000)</c>, capped at 262144; BestEffort (no request) gets 2.</summary>
    public static long MilliCpuToShares(long milliCpu)
    {
        if (milliCpu <= 0)
        {
            return MinShares;
        }

        long shares = milliCpu * SharesPerCpu / MilliCpuToCpu;
        return Math.Clamp(shares, MinShares, MaxShares);
    }

    /// <summary>CFS quota for a CPU limit in millicores: <c>milli*period/1000</c>, at least 1000 µs; null when there is no limit.</summary>
    public static long? MilliCpuToQuota(long milliCpu, long periodMicros = DefaultQuotaPeriodMicros)
    {
        if (milliCpu <= 0)
        {
            return null;
        }

        long quota = milliCpu * periodMicros / MilliCpuToCpu;
        return Math.Max(quota, MinQuotaPeriodMicros);
    }

    /// <summary>Resources for a container (or pod) cgroup from its CPU request/limit in millicores, memory limit and pids limit.</summary>
    public static LinuxContainerResources Resources(QosClass qos, long cpuRequestMilli, long cpuLimitMilli, long? memoryLimitBytes, long? pidsLimit = null) => new()
    {
        CpuShares = qos == QosClass.BestEffort ? MinShares : MilliCpuToShares(cpuRequestMilli),
        CpuQuotaMicros = MilliCpuToQuota(cpuLimitMilli),
        CpuPeriodMicros = DefaultQuotaPeriodMicros,
        MemoryLimitBytes = memoryLimitBytes,
        PidsLimit = pidsLimit,
    };

    private static void ValidateName(string name, string what)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('/') || name is "." or "..")
        {
            throw new ArgumentException($"{what} \"{name}\" is not a valid cgroup name", nameof(name));
        }
    }
}
