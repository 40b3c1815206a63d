using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Kubelet.Prober;

/// <summary>What every probe worker shares: the runner, the results, the pods' statuses and sandboxes, events, clock.</summary>
internal sealed record ProbeContext(
    IProbeRunner Runner,
    ProbeResults Results,
    Func<string, V1PodStatus?> Status,
    Func<V1Pod, string?> Sandbox,
    IPodEventRecorder Events,
    TimeProvider Time,
    ILogger Logger)
{
    /// <summary>Each worker's metric series (prober_probe_total, prober_probe_duration_seconds), made when it starts.</summary>
    public Func<V1Pod, V1Container, ProbeKind, IProbeSeries> Series { get; init; } = (_, _, _) => NoSeries.Instance;

    private sealed class NoSeries : IProbeSeries
    {
        public static readonly NoSeries Instance = new();

        public void Observe(ProbeResult result, TimeSpan elapsed)
        {
        }
    }
}
