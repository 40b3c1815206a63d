using NodeAgent.Images;
using NodeAgent.Kubelet.Config;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// The one typed model of the agent's settings, built by <see cref="AgentOptionsResolver"/>: kubelet's defaults,
/// then the <c>--config</c> file, then the flags given on the command line. <see cref="Kubelet"/> holds every
/// KubeletConfiguration field the agent accepts; the rest are flag-only settings (kubelet has no file field for
/// them either).
/// </summary>
public sealed class AgentOptions
{
    public const string DefaultPodCidr = "10.88.0.0/16";

    public const string DefaultPodLogDir = "/var/log/pods";

    /// <summary>The KubeletConfiguration fields, after the file and the flags.</summary>
    public KubeletConfiguration Kubelet { get; set; } = new();

    /// <summary>The <c>--config</c> file, when one was given.</summary>
    public string? ConfigFile { get; set; }

    public string RootDir { get; set; } = "/var/lib/nodeagent";

    /// <summary><c>--runtime-state-dir</c> (null: <see cref="NodeAgent.Runtime.RuntimeOptions.ResolveStateDir"/>).</summary>
    public string? RuntimeStateDir { get; set; }

    public string CgroupRoot { get; set; } = string.Empty;

    /// <summary><c>--kubeconfig</c>: API server mode when set.</summary>
    public string? KubeConfig { get; set; }

    public string? HostnameOverride { get; set; }

    public string? NodeIp { get; set; }

    /// <summary><c>--node-labels</c>: labels the Node is registered with.</summary>
    public Dictionary<string, string> NodeLabels { get; set; } = new(StringComparer.Ordinal);

    public string NetworkPlugin { get; set; } = "bridge";

    public string CniConfDir { get; set; } = "/etc/cni/net.d";

    public string CniBinDir { get; set; } = "/opt/cni/bin";

    public string BridgeName { get; set; } = "nodeagent0";

    public int NetworkMtu { get; set; } = 1500;

    public TimeSpan NetworkCheckFrequency { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary><c>--eviction-monitoring-period</c>: the eviction manager's period (kubelet: 10 s, fixed).</summary>
    public TimeSpan EvictionMonitoringPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary><c>--fs-stats-period</c>: how often disk usage (writable layers, logs, volumes) is measured.</summary>
    public TimeSpan FsStatsPeriod { get; set; } = TimeSpan.FromMinutes(1);

    public string? RegistryConfig { get; set; }

    public string LoggingFormat { get; set; } = "text";

    /// <summary><c>--disable-kube-proxy</c>: no service proxy in the agent.</summary>
    public bool DisableKubeProxy { get; set; }

    /// <summary><c>--kube-proxy-arg</c>: the in-agent proxy's flags by name.</summary>
    public Dictionary<string, string> KubeProxyArgs { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>podCIDR</c>, or the built-in network's default.</summary>
    public string PodCidr => Kubelet.PodCidr is { Length: > 0 } cidr ? cidr : DefaultPodCidr;

    /// <summary><c>podLogsDir</c> / <c>--pod-log-dir</c>, or kubelet's default.</summary>
    public string PodLogDir => Kubelet.PodLogsDir is { Length: > 0 } dir ? dir : DefaultPodLogDir;

    /// <summary>kubelet's image GC thresholds as the image collector's policy.</summary>
    public ImageGcPolicy ImageGc => new()
    {
        HighThresholdPercent = Kubelet.ImageGcHighThresholdPercent,
        LowThresholdPercent = Kubelet.ImageGcLowThresholdPercent,
    };
}
