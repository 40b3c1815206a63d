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
    /// <summary>Called with every probe answer (for prober_probe_total).</summary>
    public Action<V1Pod, V1Container, ProbeKind, ProbeResult> Count { get; init; } = (_, _, _, _) => { };
}
