using k8s.Models;
using NodeAgent.Kubelet.Prober;
using Prometheus;

namespace NodeAgent.Kubelet.Reporting;

/// <summary>
/// kubelet's <c>/metrics/probes</c> on a registry of its own: <c>prober_probe_total{probe_type, result, container,
/// pod, namespace, pod_uid}</c> (probe_type Liveness/Readiness/Startup, result successful/failed/unknown), counted
/// with every probe answer; a pod's series go with the pod, as kubelet's workers remove theirs when they stop.
/// </summary>
public sealed class ProbeMetrics
{
    private readonly Counter _total;

    public ProbeMetrics(CollectorRegistry registry)
    {
        _total = Prometheus.Metrics.WithCustomRegistry(registry).CreateCounter("prober_probe_total",
            "[BETA] Cumulative number of a liveness, readiness or startup probe for a container by result.",
            new CounterConfiguration { LabelNames = ["probe_type", "result", "container", "pod", "namespace", "pod_uid"] });
        Exposition = new MetricsExposition(registry, "/metrics/probes");
    }

    /// <summary><c>/metrics/probes</c> (node subresource <c>metrics</c>).</summary>
    public MetricsExposition Exposition { get; }

    /// <summary>One probe answer (the <see cref="ProbeManager"/>'s count hook).</summary>
    public void Count(V1Pod pod, V1Container container, ProbeKind kind, ProbeResult result) =>
        _total.WithLabels(kind.ToString(), result switch
        {
            ProbeResult.Success or ProbeResult.Warning => "successful",
            ProbeResult.Failure => "failed",
            _ => "unknown",
        }, container.Name, pod.Metadata.Name, pod.Metadata.NamespaceProperty ?? "default", pod.Metadata.Uid).Inc();

    /// <summary>Removes the pod's series.</summary>
    public void Forget(string podUid)
    {
        foreach (var labels in _total.GetAllLabelValues().Where(l => l[5] == podUid).ToList())
        {
            _total.RemoveLabelled(labels);
        }
    }
}
