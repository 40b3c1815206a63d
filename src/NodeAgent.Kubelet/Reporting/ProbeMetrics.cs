using k8s.Models;
using NodeAgent.Kubelet.Prober;
using Prometheus;

namespace NodeAgent.Kubelet.Reporting;

/// <summary>
/// kubelet's <c>/metrics/probes</c> on a registry of its own: <c>prober_probe_total{probe_type, result, container,
/// pod, namespace, pod_uid}</c> (probe_type Liveness/Readiness/Startup, result successful/failed/unknown), counted
/// with every probe answer, and <c>prober_probe_duration_seconds{probe_type, container, pod, namespace}</c>, the time
/// of a round observed (as kubelet's worker does) for successful and unknown answers only. The histogram's buckets
/// are finer than kubelet's defaults below 10 ms (0.5 ms apart), where exec and network probes answer, so a
/// quantile of them says something; above that they are kubelet's. Each worker's series are made once
/// (<see cref="For"/>) and appear with their first value, as kubelet's; a pod's series go with the pod, as kubelet's workers remove theirs when they stop.
/// </summary>
public sealed class ProbeMetrics
{
    private static readonly double[] DurationBuckets =
    [
        .0005, .001, .0015, .002, .0025, .003, .0035, .004, .0045, .005, .006, .007, .008, .009, .01,
        .025, .05, .1, .25, .5, 1, 2.5, 5, 10,
    ];

    private readonly Counter _total;
    private readonly Histogram _duration;

    public ProbeMetrics(CollectorRegistry registry)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _total = factory.CreateCounter("prober_probe_total",
            "[BETA] Cumulative number of a liveness, readiness or startup probe for a container by result.",
            new CounterConfiguration { LabelNames = ["probe_type", "result", "container", "pod", "namespace", "pod_uid"], SuppressInitialValue = true });
        _duration = factory.CreateHistogram("prober_probe_duration_seconds",
            "[ALPHA] Duration in seconds for a probe response.",
            new HistogramConfiguration { LabelNames = ["probe_type", "container", "pod", "namespace"], Buckets = DurationBuckets, SuppressInitialValue = true });
        Exposition = new MetricsExposition(registry, "/metrics/probes");
    }

    /// <summary><c>/metrics/probes</c> (node subresource <c>metrics</c>).</summary>
    public MetricsExposition Exposition { get; }

    /// <summary>The series of one probe worker (the <see cref="ProbeManager"/>'s hook).</summary>
    public IProbeSeries For(V1Pod pod, V1Container container, ProbeKind kind)
    {
        var type = kind.ToString();
        var name = pod.Metadata.Name;
        var ns = pod.Metadata.NamespaceProperty ?? "default";
        var uid = pod.Metadata.Uid;
        return new WorkerSeries(
            _total.WithLabels(type, "successful", container.Name, name, ns, uid),
            _total.WithLabels(type, "failed", container.Name, name, ns, uid),
            _total.WithLabels(type, "unknown", container.Name, name, ns, uid),
            _duration.WithLabels(type, container.Name, name, ns));
    }

    /// <summary>Removes the pod's series.</summary>
    public void Forget(V1Pod pod)
    {
        var uid = pod.Metadata.Uid;
        foreach (var labels in _total.GetAllLabelValues().Where(l => l[5] == uid).ToList())
        {
            _total.RemoveLabelled(labels);
        }
        var ns = pod.Metadata.NamespaceProperty ?? "default";
        foreach (var labels in _duration.GetAllLabelValues().Where(l => l[2] == pod.Metadata.Name && l[3] == ns).ToList())
        {
            _duration.RemoveLabelled(labels);
        }
    }

    private sealed class WorkerSeries(Counter.Child successful, Counter.Child failed, Counter.Child unknown, Histogram.Child duration) : IProbeSeries
    {
        public void Observe(ProbeResult result, TimeSpan elapsed)
        {
            switch (result)
            {
                case ProbeResult.Success or ProbeResult.Warning:
                    successful.Inc();
                    duration.Observe(elapsed.TotalSeconds);
                    break;
                case ProbeResult.Failure:
                    failed.Inc();
                    break;
                default:
                    unknown.Inc();
                    duration.Observe(elapsed.TotalSeconds);
                    break;
            }
        }
    }
}
