using System.Collections.Concurrent;
using System.Threading.Channels;
using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Reporting;
using NodeAgent.Kubelet.Prober;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// kubelet's pod workers: one worker per pod UID; a worker never runs two syncs of its pod at once. Work arrives as
/// signals (a new spec, a container event, a retry timer) that coalesce while a sync runs. A removed pod is stopped
/// with its grace period (a later removal with a shorter grace cuts a running kill short), its sandbox, volumes and
/// log directory removed, and everything kept about it forgotten.
/// </summary>
/// <remarks>
/// A worker survives every error of a sync or a kill: it logs it with the pod, records a <c>FailedSync</c> /
/// <c>FailedKillPod</c> event and the waiting reason on the pod, and tries again after <see cref="SyncErrorRetry"/>.
/// A pod added again while its old incarnation is still terminating (same UID: a manifest removed and put back) is
/// started afresh once the termination has completed, as kubelet's "pod was restarted". Each worker is a loop in
/// <see cref="LoopHealth"/>, gone when its pod is.
/// </remarks>
public sealed partial class PodWorkers(
    PodSyncer syncer,
    PodStatusManager statuses,
    Func<string?> hostIp,
    TimeProvider time,
    ILogger<PodWorkers> logger,
    IPodEventRecorder? events = null,
    LoopHealth? health = null) : IAsyncDisposable, Eviction.IPodEvictor
{
    private readonly ConcurrentDictionary<string, Worker> _workers = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly LoopHealth _health = health ?? new LoopHealth(time);

    /// <summary>How long a worker waits before retrying a sync or kill that failed (kubelet's workerBackOffPeriod).</summary>
    public TimeSpan SyncErrorRetry { get; init; } = TimeSpan.FromSeconds(10);

    public int Count => _workers.Count;

    /// <summary>The probes of the pods' containers: started with a pod's worker, stopped when the pod is gone; their
    /// results go into the statuses this publishes.</summary>
    public ProbeManager? Probes { get; init; }

    /// <summary>Called after a pod's worker has stopped and removed it (outside the workers' lock).</summary>
    public Action? PodRemoved { get; init; }

    /// <summary>Where each pod's start goes (seen, statuses); null: not measured.</summary>
    public PodStartTracker? Starts { get; init; }

    /// <summary>kubelet's pod worker durations and restarted pods; null: not kept.</summary>
    public KubeletPodMetrics? Metrics { get; init; }

    /// <summary>Adds or updates the desired pod and schedules a sync. A pod whose previous incarnation is still
    /// terminating is started again once that termination has completed.</summary>
    public void UpdatePod(V1Pod pod)
    {
        var uid = pod.Metadata.Uid;
        lock (_lock)
        {
            if (_workers.TryGetValue(uid, out var worker))
            {
                if (worker.Terminating)
                {
                    worker.Restart = pod;
                    LogRestartRequested(PodPaths.FullName(pod));
                    return;
                }

                worker.Desired = pod;
                worker.Updated = true;
            }
            else
            {
                worker = Start(uid, pod);
            }

            worker.Signal();
        }
    }

    /// <summary>Stops the pod: containers get the grace period (the pod's own when null), then the sandbox goes.
    /// When the pod is already terminating, a shorter grace period replaces the running one.</summary>
    public void RemovePod(string uid, TimeSpan? grace = null)
    {
        lock (_lock)
        {
            if (!_workers.TryGetValue(uid, out var worker))
            {
                return;
            }

            worker.Restart = null;
            var wanted = GracePeriods.Saturate(grace ?? GracePeriods.For(worker.Desired));
            if (!worker.Terminating)
            {
                worker.Terminating = true;
                worker.Grace = wanted;
            }
            else if (wanted < worker.Grace)
            {
                worker.Grace = wanted;
                worker.CancelKill();
            }

            worker.Signal();
        }
    }

    /// <summary>
    /// kubelet's TerminatePodAbnormally for an eviction: the pod's containers are stopped within
    /// <paramref name="grace"/> and never started again; its status stays phase Failed with the failure's reason and
    /// message until the pod is removed (its sandbox and volumes stay until then, as kubelet's).
    /// </summary>
    /// <returns>False when the pod has no worker, is terminating, or has failed already.</returns>
    public bool Evict(string uid, PodFailure failure, TimeSpan grace)
    {
        lock (_lock)
        {
            if (!_workers.TryGetValue(uid, out var worker) || worker.Terminating || worker.Failure is not null)
            {
                return false;
            }

            worker.Failure = failure;
            worker.FailureGrace = grace;
            worker.Signal();
            return true;
        }
    }

    /// <summary>Something happened to one of the pod's containers: sync it.</summary>
    public void Notify(string uid)
    {
        if (_workers.TryGetValue(uid, out var worker))
        {
            worker.Signal();
        }
    }

    /// <summary>Completes when the pod's worker has ended (after removal).</summary>
    public Task Terminated(string uid) => _workers.TryGetValue(uid, out var w) ? w.Loop : Task.CompletedTask;

    private Worker Start(string uid, V1Pod pod)
    {
        var worker = new Worker(pod, LoopName(pod));
        _workers[uid] = worker;
        Starts?.Seen(pod);
        Probes?.AddPod(pod);
        _health.Running(worker.Name);
        worker.Loop = Task.Run(() => RunAsync(uid, worker));
        return worker;
    }

    private async Task RunAsync(string uid, Worker worker)
    {
        var token = _stopping.Token;
        var ended = false;
        try
        {
            while (await worker.Signals.Reader.WaitToReadAsync(token))
            {
                worker.Signals.Reader.TryRead(out _);
                if (worker.Terminating)
                {
                    if (await TerminateAsync(uid, worker, token))
                    {
                        ended = true;
                        break;
                    }

                    continue;
                }

                await SyncAsync(uid, worker, token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Agent shutdown: pods keep running, as with kubelet.
        }
        catch (Exception e)
        {
            // Only a bug in the worker itself gets here (every sync and kill error is handled): make it visible.
            LogWorkerFailed(PodPaths.FullName(worker.Desired), e.ToString());
            _health.Failed(worker.Name, $"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            worker.DisposeTimers();
            lock (_lock)
            {
                _workers.TryRemove(new KeyValuePair<string, Worker>(uid, worker));
            }

            if (ended || token.IsCancellationRequested)
            {
                _health.Forget(worker.Name);
            }
        }
    }

    private async Task SyncAsync(string uid, Worker worker, CancellationToken token)
    {
        var pod = worker.Desired;
        // kubelet's pod_worker_duration_seconds operation: the first sync creates, one after a new spec updates.
        var operation = !worker.Synced ? "create" : worker.Updated ? "update" : "sync";
        worker.Synced = true;
        worker.Updated = false;
        var began = time.GetTimestamp();
        PodSyncResult result;
        try
        {
            result = worker.Failure is { } failure
                ? await syncer.StopForFailureAsync(pod, failure, worker.FailureGrace, token)
                : PodSyncer.DeadlineLeft(pod, worker.StartTime, time.GetUtcNow().UtcDateTime) <= TimeSpan.Zero
                ? await syncer.StopForDeadlineAsync(pod, token)
                : await syncer.SyncAsync(pod, token);
        }
        catch (Exception e) when (!token.IsCancellationRequested)
        {
            var error = Describe(e);
            LogSyncFailed(PodPaths.FullName(pod), error);
            events?.Record(pod, "Warning", "FailedSync", "Error syncing pod, skipping: " + error);
            _health.Survived(worker.Name, error);
            var waiting = new Dictionary<string, ContainerWaiting>(StringComparer.Ordinal);
            foreach (var c in (pod.Spec?.InitContainers ?? []).Concat(pod.Spec?.Containers ?? []))
            {
                if (c?.Name is { } name)
                {
                    waiting[name] = new ContainerWaiting("ContainerCreating", "Error syncing pod: " + error);
                }
            }

            result = new PodSyncResult(waiting, SyncErrorRetry);
        }
        finally
        {
            Metrics?.WorkerSynced(operation, time.GetElapsedTime(began));
        }

        try
        {
            PublishStatus(uid, worker, pod, result);
        }
        catch (Exception e) when (!token.IsCancellationRequested)
        {
            var error = Describe(e);
            LogStatusFailed(PodPaths.FullName(pod), error);
            _health.Survived(worker.Name, error);
            result = result with { RetryAfter = SyncErrorRetry };
        }

        // A sync at the pod's active deadline, so it fails on time (no polling).
        var retry = result.RetryAfter;
        if (result.Failure is null && PodSyncer.DeadlineLeft(pod, worker.StartTime, time.GetUtcNow().UtcDateTime) is { } left)
        {
            var atDeadline = left < TimeSpan.Zero ? TimeSpan.Zero : left;
            retry = retry is { } r && r < atDeadline ? r : atDeadline;
        }

        if (retry is { } delay)
        {
            worker.ScheduleRetry(delay, time);
        }
    }

    private void PublishStatus(string uid, Worker worker, V1Pod pod, PodSyncResult result)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var view = syncer.View(pod);
        // After an agent restart the pod started when its sandbox was made, not now.
        worker.StartTime ??= view.Sandbox is { } sandbox ? sandbox.CreatedAt.UtcDateTime : now;
        // The desired pod belongs to pod config and is never modified; the builder sees the last status
        // (for transition times) on a shallow copy.
        var previous = statuses.Get(uid);
        var current = new V1Pod { ApiVersion = pod.ApiVersion, Kind = pod.Kind, Metadata = pod.Metadata, Spec = pod.Spec, Status = previous };
        var status = PodStatusBuilder.Build(current, view, result.Waiting, hostIp(), worker.StartTime, now, Probes, syncer.TerminationMessages, result.Failure);
        var previousPhase = previous?.Phase;
        Starts?.StatusPublished(uid, status);
        if (statuses.Set(pod, status) && previousPhase != status.Phase)
        {
            LogPhase(PodPaths.FullName(pod), previousPhase ?? "-", status.Phase);
        }
    }

    /// <summary>Kills the pod; true when the worker is done (false: retry, or the pod was re-added and restarts).</summary>
    private async Task<bool> TerminateAsync(string uid, Worker worker, CancellationToken token)
    {
        var pod = worker.Desired;
        using var kill = worker.NewKill(token);
        var began = time.GetTimestamp();
        try
        {
            await syncer.KillPodAsync(pod, worker.Grace, kill.Token);
            Metrics?.WorkerSynced("kill", time.GetElapsedTime(began));
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested && kill.IsCancellationRequested)
        {
            // A shorter grace period arrived: kill again with it.
            worker.Signal();
            return false;
        }
        catch (Exception e) when (!token.IsCancellationRequested)
        {
            var error = Describe(e);
            LogKillFailed(PodPaths.FullName(pod), error);
            events?.Record(pod, "Warning", "FailedKillPod", "error killing pod: " + error);
            _health.Survived(worker.Name, error);
            worker.ScheduleRetry(SyncErrorRetry, time);
            return false;
        }

        LogPodRemoved(PodPaths.FullName(pod));
        lock (_lock)
        {
            Forget(uid, restarting: worker.Restart is not null);
            if (worker.Restart is { } again)
            {
                // kubelet: the pod was restarted: a fresh start of the same UID now that the old one is gone.
                worker.Restart = null;
                worker.Terminating = false;
                worker.Desired = again;
                worker.StartTime = null;
                worker.Failure = null;
                worker.Synced = false;
                Metrics?.PodRestarted(IsStatic(again));
                Starts?.Seen(again);
                worker.Signal();
                LogRestarted(PodPaths.FullName(again));
                return false;
            }

            _workers.TryRemove(new KeyValuePair<string, Worker>(uid, worker));
        }

        PodRemoved?.Invoke();
        return true;
    }

    private void Forget(string uid, bool restarting)
    {
        Probes?.RemovePod(uid);
        statuses.Remove(uid);
        syncer.ForgetPod(uid);
        Starts?.Forget(uid);
        if (!restarting)
        {
            events?.Forget(uid);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_workers.Values.Select(w => w.Loop));
        _stopping.Dispose();
    }

    /// <summary>kubelet's IsStaticPod: a pod that did not come from the API server.</summary>
    private static bool IsStatic(V1Pod pod) =>
        pod.Metadata?.Annotations?.TryGetValue(ConfigAnnotations.Source, out var source) == true && source != PodSourceNames.ApiServer;

    private static string LoopName(V1Pod pod) => "pod worker " + PodPaths.FullName(pod);

    private static string Describe(Exception e) => e is NodeAgent.Cri.RuntimeException or IOException ? e.Message : $"{e.GetType().Name}: {e.Message}";

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Pod}: sync failed: {Error}")]
    private partial void LogSyncFailed(string pod, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Pod}: status not computed: {Error}")]
    private partial void LogStatusFailed(string pod, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Pod}: kill failed, retrying: {Error}")]
    private partial void LogKillFailed(string pod, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "pod {Pod}: pod worker failed: {Error}")]
    private partial void LogWorkerFailed(string pod, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Pod}: phase {Previous} -> {Phase}")]
    private partial void LogPhase(string pod, string previous, string phase);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Pod}: stopped and removed")]
    private partial void LogPodRemoved(string pod);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Pod} is terminating but has been requested to restart with the same UID; it starts again once terminated")]
    private partial void LogRestartRequested(string pod);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Pod}: pod was restarted")]
    private partial void LogRestarted(string pod);

    private sealed class Worker(V1Pod pod, string name)
    {
        private readonly Lock _timerLock = new();
        private ITimer? _retry;
        private CancellationTokenSource? _kill;

        public string Name { get; } = name;

        public Channel<bool> Signals { get; } = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

        public volatile V1Pod Desired = pod;

        /// <summary>Set while terminating when the same UID was added again.</summary>
        public volatile V1Pod? Restart;

        public volatile bool Terminating;

        /// <summary>A sync has run (the next is not the pod's first: kubelet's <c>create</c> operation).</summary>
        public bool Synced;

        /// <summary>A new spec arrived since the last sync.</summary>
        public volatile bool Updated;

        public TimeSpan Grace { get; set; }

        public DateTime? StartTime { get; set; }

        /// <summary>The pod failed as a whole (evicted): it is only stopped from now on.</summary>
        public volatile PodFailure? Failure;

        public TimeSpan FailureGrace { get; set; }

        public Task Loop { get; set; } = Task.CompletedTask;

        public void Signal() => Signals.Writer.TryWrite(true);

        public void ScheduleRetry(TimeSpan delay, TimeProvider time)
        {
            lock (_timerLock)
            {
                _retry?.Dispose();
                _retry = time.CreateTimer(_ => Signal(), null, GracePeriods.Saturate(delay), Timeout.InfiniteTimeSpan);
            }
        }

        public CancellationTokenSource NewKill(CancellationToken stopping)
        {
            lock (_timerLock)
            {
                _kill = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                return _kill;
            }
        }

        public void CancelKill()
        {
            lock (_timerLock)
            {
                try
                {
                    _kill?.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // The kill already ended; the next one uses the new grace period.
                }
            }
        }

        public void DisposeTimers()
        {
            lock (_timerLock)
            {
                _retry?.Dispose();
                _retry = null;
            }
        }
    }
}
