using Prometheus;

namespace NodeAgent.Kubelet.Reporting;

/// <summary>
/// The kubelet's <c>/metrics</c> families on one registry the composition root owns (never prometheus-net's static
/// default, so nothing else lands in the document and tests can have several): <c>kubelet_node_name{node}</c>, the
/// pod families (<see cref="Pods"/>), the CRI operations (<see cref="Runtime"/>), the node start-up gauges
/// (<see cref="Startup"/>) and the API client's requests (<see cref="RestClient"/>). <see cref="Exposition"/> is the
/// document the kubelet API serves at <c>/metrics</c>.
/// </summary>
public sealed class KubeletMetrics
{
    /// <param name="registry">A registry of its own (<c>Prometheus.Metrics.NewCustomRegistry()</c>).</param>
    /// <param name="uptime">Time since boot, for the node start-up gauges (null: the monotonic clock's).</param>
    public KubeletMetrics(CollectorRegistry registry, string nodeName, TimeProvider time, TimeSpan? uptime = null)
    {
        Registry = registry;
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        factory.CreateGauge("kubelet_node_name", MetricHelp.Alpha("The node's name. The count is always 1."),
            new GaugeConfiguration { LabelNames = ["node"] }).WithLabels(nodeName).Set(1);
        Pods = new KubeletPodMetrics(registry);
        Runtime = new RuntimeOperationMetrics(factory, time);
        Startup = new NodeStartupMetrics(factory, time, uptime ?? TimeSpan.FromMilliseconds(Environment.TickCount64));
        RestClient = new RestClientMetrics(factory);
        Exposition = new MetricsExposition(registry);
        Probes = new ProbeMetrics(Prometheus.Metrics.NewCustomRegistry());
    }

    /// <summary><c>prober_probe_total</c>, served on <c>/metrics/probes</c> from a registry of its own, as kubelet.</summary>
    public ProbeMetrics Probes { get; }

    /// <summary>Every document of these metrics: <c>/metrics</c> and <c>/metrics/probes</c>.</summary>
    public IReadOnlyList<IHttpExposition> Expositions => [Exposition, Probes.Exposition];

    public CollectorRegistry Registry { get; }

    public KubeletPodMetrics Pods { get; }

    public RuntimeOperationMetrics Runtime { get; }

    public NodeStartupMetrics Startup { get; }

    public RestClientMetrics RestClient { get; }

    /// <summary><c>/metrics</c> (node subresource <c>metrics</c>).</summary>
    public MetricsExposition Exposition { get; }
}
