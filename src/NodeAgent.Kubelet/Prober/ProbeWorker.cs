using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Kubelet.Prober;

/// <summary>
/// One probe of one container, as kubelet's probe worker: every <c>periodSeconds</c> it looks up the container's
/// running instance in the pod's status; a new instance resets the counters and publishes the kind's initial result
/// (readiness Failure, liveness Success, startup Unknown); nothing is probed before <c>initialDelaySeconds</c> since
/// the container started, nor (liveness, readiness) before the startup probe succeeded, nor (startup) once it has.
/// A result is published after <c>successThreshold</c> or <c>failureThreshold</c> equal answers in a row; a
/// liveness or startup failure puts the worker on hold until the container is replaced. Each failure is a Warning
/// <c>Unhealthy</c> event with kubelet's text ("Liveness probe failed: …").
/// </summary>
internal sealed partial class ProbeWorker
{
    private readonly V1Pod _pod;
    private readonly V1Container _container;
    private readonly V1Probe _probe;
    private readonly ProbeContext _context;
    private readonly IProbeSeries _series;
    private string? _containerId;
    private string? _statusContainerId;
    private ProbeTarget? _target;
    private ProbeResult _last = ProbeResult.Unknown;
    private int _run;
    private bool _onHold;

    public ProbeWorker(V1Pod pod, V1Container container, ProbeKind kind, V1Probe probe, ProbeContext context)
    {
        _pod = pod;
        _container = container;
        Kind = kind;
        _probe = probe;
        _context = context;
        _series = context.Series(pod, container, kind);
    }

    public V1Pod Pod => _pod;

    public ProbeKind Kind { get; }

    public string? ContainerId => _containerId;

    public static ProbeResult Initial(ProbeKind kind) => kind switch
    {
        ProbeKind.Readiness => ProbeResult.Failure,
        ProbeKind.Liveness => ProbeResult.Success,
        _ => ProbeResult.Unknown,
    };

    public async Task RunAsync(CancellationToken stop)
    {
        var period = TimeSpan.FromSeconds(Math.Clamp(_probe.PeriodSeconds ?? 10, 1, 86400));
        using var timer = new PeriodicTimer(period, _context.Time);
        do
        {
            try
            {
                await ProbeOnceAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // One bad round never ends the worker (kubelet's worker recovers from panics the same way).
                LogProbeError(_context.Logger, PodPaths.FullName(_pod), _container.Name, Kind, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false));
    }

    /// <summary>One round of kubelet's doProbe.</summary>
    public async Task ProbeOnceAsync(CancellationToken cancellationToken)
    {
        var start = _context.Time.GetTimestamp();
        var uid = _pod.Metadata.Uid;
        var status = _context.Status(uid);
        var c = FindStatus(status?.ContainerStatuses, _container.Name) ?? FindStatus(status?.InitContainerStatuses, _container.Name);
        if (c?.ContainerID is not { Length: > 0 } statusId)
        {
            return;
        }
        if (statusId != _statusContainerId)
        {
            // A new instance (the only time the id is parsed and the target rebuilt).
            var id = statusId.StartsWith(PodStatusBuilder.ContainerIdScheme, StringComparison.Ordinal) ? statusId[PodStatusBuilder.ContainerIdScheme.Length..] : statusId;
            if (_containerId is not null)
            {
                _context.Results.Remove(_containerId, Kind);
            }
            _statusContainerId = statusId;
            _containerId = id;
            _target = null;
            _context.Results.Set(uid, id, Kind, Initial(Kind));
            _onHold = false;
            _run = 0;
            _last = ProbeResult.Unknown;
        }
        var containerId = _containerId!;
        if (_onHold)
        {
            return;
        }
        if (c.State?.Running is not { } running)
        {
            _context.Results.Set(uid, containerId, Kind, ProbeResult.Failure);
            return;
        }
        if (Kind is ProbeKind.Liveness or ProbeKind.Readiness && _container.StartupProbe is not null
            && _context.Results.Get(containerId, ProbeKind.Startup) != ProbeResult.Success)
        {
            return;
        }
        if (Kind == ProbeKind.Startup && _context.Results.Get(containerId, ProbeKind.Startup) == ProbeResult.Success)
        {
            return;
        }
        var started = running.StartedAt ?? _context.Time.GetUtcNow().UtcDateTime;
        if (_context.Time.GetUtcNow().UtcDateTime - started < TimeSpan.FromSeconds(Math.Max(0, _probe.InitialDelaySeconds ?? 0)))
        {
            return;
        }
        // The sandbox is looked up once per container instance (a new sandbox means new containers), and again
        // when the pod's IP changes.
        if (_target is null || _target.PodIp != status?.PodIP)
        {
            if (_context.Sandbox(_pod) is not { } sandbox)
            {
                return;
            }
            _target = new ProbeTarget(_pod, _container, containerId, sandbox, status?.PodIP);
        }

        var outcome = await _context.Runner.RunAsync(_target, _probe, cancellationToken);
        var result = outcome.Result;
        _series.Observe(result, _context.Time.GetElapsedTime(start));
        switch (result)
        {
            case ProbeResult.Unknown:
                Record("Unhealthy", $"{Kind} probe errored: {outcome.Output}");
                return;
            case ProbeResult.Failure:
                Record("Unhealthy", $"{Kind} probe failed: {outcome.Output}");
                break;
            case ProbeResult.Warning:
                Record("ProbeWarning", $"{Kind} probe warning: {outcome.Output}");
                result = ProbeResult.Success;
                break;
        }
        if (result == _last)
        {
            _run++;
        }
        else
        {
            _last = result;
            _run = 1;
        }
        if ((result == ProbeResult.Failure && _run < Math.Max(1, _probe.FailureThreshold ?? 3))
            || (result == ProbeResult.Success && _run < Math.Max(1, _probe.SuccessThreshold ?? 1)))
        {
            return;
        }
        _context.Results.Set(uid, containerId, Kind, result);
        if (Kind is ProbeKind.Liveness or ProbeKind.Startup && result == ProbeResult.Failure)
        {
            // The container is restarted; nothing more to probe until a new instance runs.
            _onHold = true;
            _run = 0;
        }
    }

    private static V1ContainerStatus? FindStatus(IList<V1ContainerStatus>? statuses, string name)
    {
        if (statuses is not null)
        {
            foreach (var s in statuses)
            {
                if (s.Name == name)
                {
                    return s;
                }
            }
        }
        return null;
    }

    private void Record(string reason, string message) =>
        _context.Events.Record(_pod, "Warning", reason, message, $"spec.containers{{{_container.Name}}}");

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Pod} container {Container}: {Kind} probe round failed: {Error}")]
    private static partial void LogProbeError(ILogger logger, string pod, string container, ProbeKind kind, string error);
}
