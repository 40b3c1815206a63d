using System.Collections.Concurrent;
using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Kubelet.Reporting;

namespace NodeAgent.Kubelet.Prober;

/// <summary>
/// kubelet's prober manager: one <see cref="ProbeWorker"/> per container probe of every pod the node runs, started
/// when the pod is added and stopped when it is removed; the results drive the container statuses
/// (<see cref="Started"/>, <see cref="Ready"/>) and restarts (<see cref="FailedProbe"/>), and every change of a result
/// wakes the pod's worker (<see cref="ProbeResults.Changed"/>).
/// </summary>
public sealed class ProbeManager : IAsyncDisposable
{
    private readonly ProbeContext _context;
    private readonly ConcurrentDictionary<string, PodProbes> _pods = new();
    private readonly CancellationTokenSource _stopping = new();

    private readonly ProbeMetrics? _metrics;

    public ProbeManager(IProbeRunner runner, Func<string, V1PodStatus?> status, Func<V1Pod, string?> sandbox, IPodEventRecorder events,
        TimeProvider time, ILogger<ProbeManager> logger, ProbeMetrics? metrics = null)
    {
        _metrics = metrics;
        _context = new ProbeContext(runner, Results, status, sandbox, events, time, logger);
        if (metrics is not null)
        {
            _context = _context with { Series = metrics.For };
        }
    }

    public ProbeResults Results { get; } = new();

    /// <summary>Running probe workers (tests, metrics).</summary>
    public int WorkerCount => _pods.Values.Sum(p => p.Workers.Count);

    /// <summary>Starts the probe workers of a pod's containers (once per pod UID; probes are immutable).</summary>
    public void AddPod(V1Pod pod)
    {
        var uid = pod.Metadata.Uid;
        if (_pods.ContainsKey(uid))
        {
            return;
        }
        var workers = new List<ProbeWorker>();
        // Sidecars (init containers with restartPolicy Always) are probed as regular containers are.
        foreach (var c in (pod.Spec.InitContainers ?? []).Where(InitContainerPlan.IsSidecar).Concat(pod.Spec.Containers))
        {
            if (c.StartupProbe is { } s)
            {
                workers.Add(new ProbeWorker(pod, c, ProbeKind.Startup, s, _context));
            }
            if (c.ReadinessProbe is { } r)
            {
                workers.Add(new ProbeWorker(pod, c, ProbeKind.Readiness, r, _context));
            }
            if (c.LivenessProbe is { } l)
            {
                workers.Add(new ProbeWorker(pod, c, ProbeKind.Liveness, l, _context));
            }
        }
        if (workers.Count == 0)
        {
            return;
        }
        var probes = new PodProbes(workers, CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
        if (_pods.TryAdd(uid, probes))
        {
            probes.Loops = workers.Select(w => Task.Run(() => w.RunAsync(probes.Stop.Token))).ToList();
        }
        else
        {
            probes.Stop.Dispose();
        }
    }

    /// <summary>Stops the pod's probe workers and forgets their results.</summary>
    public void RemovePod(string uid)
    {
        if (!_pods.TryRemove(uid, out var probes))
        {
            return;
        }
        probes.Stop.Cancel();
        _metrics?.Forget(probes.Workers[0].Pod);
        foreach (var w in probes.Workers.Where(w => w.ContainerId is not null))
        {
            Results.Remove(w.ContainerId!, w.Kind);
        }
        _ = Task.WhenAll(probes.Loops).ContinueWith(_ => probes.Stop.Dispose(), TaskScheduler.Default);
    }

    /// <summary>kubelet's started: a running container without a startup probe, or whose startup probe succeeded.</summary>
    public bool Started(V1Container container, string containerId) =>
        container.StartupProbe is null || Results.Get(containerId, ProbeKind.Startup) == ProbeResult.Success;

    /// <summary>kubelet's ready (for a started, running container): no readiness probe, or its last result a success.</summary>
    public bool Ready(V1Container container, string containerId) =>
        container.ReadinessProbe is null || Results.Get(containerId, ProbeKind.Readiness) == ProbeResult.Success;

    /// <summary>The probe whose failure means the running container must be restarted (liveness or startup), if any.</summary>
    public ProbeKind? FailedProbe(V1Container container, string containerId) =>
        container.LivenessProbe is not null && Results.Get(containerId, ProbeKind.Liveness) == ProbeResult.Failure ? ProbeKind.Liveness
        : container.StartupProbe is not null && Results.Get(containerId, ProbeKind.Startup) == ProbeResult.Failure ? ProbeKind.Startup
        : null;

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_pods.Values.SelectMany(p => p.Loops));
        _stopping.Dispose();
    }

    private sealed class PodProbes(List<ProbeWorker> workers, CancellationTokenSource stop)
    {
        public List<ProbeWorker> Workers { get; } = workers;

        public CancellationTokenSource Stop { get; } = stop;

        public List<Task> Loops { get; set; } = [];
    }
}
