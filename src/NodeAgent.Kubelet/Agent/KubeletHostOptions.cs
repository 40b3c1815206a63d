using NodeAgent.Cri;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Node;
using NodeAgent.Kubelet.Reporting;
using NodeAgent.Kubelet.Prober;

namespace NodeAgent.Kubelet.Agent;

/// <summary>What <see cref="KubeletHost"/> is composed from besides its services: settings, node, directories.</summary>
public sealed record KubeletHostOptions
{
    /// <summary>The effective settings (defaults, then the <c>--config</c> file, then flags).</summary>
    public required KubeletConfiguration Config { get; init; }

    public required NodeIdentity Node { get; init; }

    /// <summary>The agent's state directory (pods' volumes live under <c>&lt;root&gt;/pods</c>).</summary>
    public required string RootDir { get; init; }

    /// <summary>Where container logs go (kubelet's <c>podLogsDir</c>, <c>/var/log/pods</c>).</summary>
    public required string PodLogDir { get; init; }

    /// <summary>The API server this node belongs to (<c>--kubeconfig</c>); null runs the standalone kubelet.</summary>
    public KubeApiContext? Api { get; init; }

    /// <summary>API server mode: <c>--register-node</c>, <c>--node-labels</c>, <c>--register-with-taints</c>.</summary>
    public NodeRegistration Registration { get; init; } = new();

    /// <summary>API server mode: versions and reservations node status is computed with.</summary>
    public NodeStatusSettings? NodeStatus { get; init; }

    /// <summary>API server mode: the host readings of node status (the host's own files when null).</summary>
    public INodeHostReadings? HostReadings { get; init; }

    /// <summary>The kubelet's <c>/metrics</c> families (on the registry the composition root owns); null keeps none.
    /// With them the runtime and image services are instrumented, the API connection reports its requests, and the
    /// running pods/containers gauges read the runtime at each scrape.</summary>
    public KubeletMetrics? Metrics { get; init; }

    /// <summary>Sockets inside pod sandboxes for httpGet and tcpSocket probes; null: containers are not probed.</summary>
    public ISandboxSockets? Sockets { get; init; }

    /// <summary>Commands in containers for exec probes and hooks; null: the runtime's ExecSync.</summary>
    public IContainerExec? ContainerExec { get; init; }

    /// <summary>The runtime's stats for <c>/metrics/cadvisor</c>, <c>/metrics/resource</c> and <c>/stats/summary</c>;
    /// null: those documents are not served.</summary>
    public IRuntimeStats? Stats { get; init; }

    /// <summary>The eviction manager's period (kubelet's evictionMonitoringPeriod, 10 s).</summary>
    public TimeSpan EvictionMonitoringPeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How old pod volumes' measured usage may get before it is walked again (kubelet: 1 minute).</summary>
    public TimeSpan VolumeStatsPeriod { get; init; } = TimeSpan.FromMinutes(1);
}
