using System.Collections.Concurrent;
using System.Threading.Channels;
using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// One worker per pod UID; a worker never runs two syncs of its pod at once. Work arrives as signals (a new spec,
/// a container event, a retry timer) that coalesce while a sync runs. A removed pod is stopped with its grace
/// period, its sandbox removed, and its status forgotten.
/// </summary>
public sealed partial class PodWorkers(
    PodSyncer syncer,
    PodStatusManager statuses,
    Func<string?> hostIp,
    TimeProvider time,
    ILogger<PodWorkers> logger) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Worker> _workers = new();
    private readonly CancellationTokenSource _stopping = new();

    public int Count => _workers.Count;

    /// <summary>Adds or updates the desired pod and schedules a sync.</summary>
    public void UpdatePod(V1Pod pod)
    {
        var worker = _workers.GetOrAdd(pod.Metadata.Uid, uid => Start(uid));
        worker.Desired = pod;
        worker.Signal();
    }

    /// <summary>Stops the pod: containers get their grace period, then the sandbox goes.</summary>
    public void RemovePod(string uid)
    {
        if (_workers.TryGetValue(uid, out var worker))
        {
            worker.Terminating = true;
            worker.Signal();
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

    private Worker Start(string uid)
    {
        var worker = new Worker();
        worker.Loop = Task.Run(() => RunAsync(uid, worker));
        return worker;
    }

    private async Task RunAsync(string uid, Worker worker)
    {
        var token = _stopping.Token;
        DateTime? startTime = null;
        try
        {
            while (await worker.Signals.Reader.WaitToReadAsync(token))
            {
                worker.Signals.Reader.TryRead(out _);
                var pod = worker.Desired!;
                if (worker.Terminating)
                {
                    await syncer.KillPodAsync(pod, PodSyncer.GracePeriod(pod), token);
                    statuses.Remove(uid);
                    LogPodRemoved(PodPaths.FullName(pod));
                    break;
                }

                PodSyncResult result;
                try
                {
                    result = await syncer.SyncAsync(pod, token);
                }
                catch (Exception ex) when (ex is NodeAgent.Cri.RuntimeException or IOException)
                {
                    LogSyncFailed(PodPaths.FullName(pod), ex.Message);
                    result = new PodSyncResult(new Dictionary<string, ContainerWaiting>(), ContainerBackoff.Initial);
                }

                var now = time.GetUtcNow().UtcDateTime;
                var view = syncer.View(pod);
                // After an agent restart the pod started when its sandbox was made, not now.
                startTime ??= view.Sandbox is { } sandbox ? sandbox.CreatedAt.UtcDateTime : now;
                // The desired pod belongs to pod config and is never modified; the builder sees the last status
                // (for transition times) on a shallow copy.
                var previous = statuses.Get(uid);
                var current = new V1Pod { ApiVersion = pod.ApiVersion, Kind = pod.Kind, Metadata = pod.Metadata, Spec = pod.Spec, Status = previous };
                var status = PodStatusBuilder.Build(current, view, result.Waiting, hostIp(), startTime, now);
                var previousPhase = previous?.Phase;
                if (statuses.Set(pod, status) && previousPhase != status.Phase)
                {
                    LogPhase(PodPaths.FullName(pod), previousPhase ?? "-", status.Phase);
                }

                if (result.RetryAfter is { } delay)
                {
                    worker.ScheduleRetry(delay, time);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Agent shutdown: pods keep running, as with kubelet.
        }
        finally
        {
            _workers.TryRemove(uid, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_workers.Values.Select(w => w.Loop));
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Pod}: sync failed: {Error}")]
    private partial void LogSyncFailed(string pod, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Pod}: phase {Previous} -> {Phase}")]
    private partial void LogPhase(string pod, string previous, string phase);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Pod}: stopped and removed")]
    private partial void LogPodRemoved(string pod);

    private sealed class Worker
    {
        private ITimer? _retry;

        public Channel<bool> Signals { get; } = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

        public volatile V1Pod? Desired;

        public volatile bool Terminating;

        public Task Loop { get; set; } = Task.CompletedTask;

        public void Signal() => Signals.Writer.TryWrite(true);

        public void ScheduleRetry(TimeSpan delay, TimeProvider time)
        {
            _retry?.Dispose();
            _retry = time.CreateTimer(_ => Signal(), null, delay, Timeout.InfiniteTimeSpan);
        }
    }
}
