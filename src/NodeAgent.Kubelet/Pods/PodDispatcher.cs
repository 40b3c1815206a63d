using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Config;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// kubelet's syncLoop for config updates: reads <see cref="PodConfig.Updates"/>, admits new pods (pods beyond
/// capacity or with a taken host port fail with the admission reason and never run), hands admitted pods to their
/// workers, stops removed ones, and once every source has delivered its first snapshot stops runtime pods nobody
/// wants any more (left from before a restart), in the background. It also answers "which pods does this node
/// have" for the read-only API, with their latest statuses.
/// </summary>
/// <remarks>An error while handling one pod is logged with the pod and never stops the loop (<see cref="LoopHealth"/>
/// keeps the last one).</remarks>
public sealed partial class PodDispatcher(
    PodConfig config,
    PodWorkers workers,
    PodStatusManager statuses,
    PodAdmission admission,
    IPodEventRecorder events,
    OrphanPodKiller orphans,
    TimeProvider time,
    ILogger<PodDispatcher> logger,
    LoopHealth? health = null) : IPodLister
{
    public const string LoopName = "pod dispatcher";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, V1Pod> _admitted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, V1Pod> _rejected = new(StringComparer.Ordinal);
    private readonly HashSet<string> _delivered = new(StringComparer.Ordinal);
    private readonly LoopHealth _health = health ?? new LoopHealth(time);
    private readonly TaskCompletionSource _orphansDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _orphanCleanup = Task.CompletedTask;
    private bool _cleanedUp;

    /// <summary>Completes when the first orphan cleanup (started once every source was seen) has finished.</summary>
    public Task OrphanCleanup => _orphansDone.Task;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _health.Running(LoopName);
        try
        {
            await foreach (var update in config.Updates.ReadAllAsync(cancellationToken))
            {
                Handle(update);
                // Orphans only once every source has delivered its first snapshot *to us*: pod config sends the
                // initial set as one ADD per source, and the pods of a later source are still in the channel when
                // the first one's ADD arrives.
                _delivered.Add(update.Source);
                if (!_cleanedUp && config.SeenAllSources && config.Sources.All(_delivered.Contains))
                {
                    _cleanedUp = true;
                    var wanted = WantedUids();
                    _orphanCleanup = Task.Run(() => CleanUpOrphansAsync(wanted, cancellationToken), CancellationToken.None);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _health.Failed(LoopName, $"{e.GetType().Name}: {e.Message}");
            throw;
        }
        finally
        {
            if (cancellationToken.IsCancellationRequested)
            {
                // Shutdown: the cleanup ends with the same token. After a crash it carries on while the loop restarts.
                await _orphanCleanup;
            }
        }
    }

    /// <summary>Every pod of the node (admitted and rejected) with its latest status, sorted by namespace and name.</summary>
    public IReadOnlyList<V1Pod> ListPods()
    {
        List<V1Pod> pods;
        lock (_lock)
        {
            pods = [.. _admitted.Values, .. _rejected.Values];
        }

        return pods
            .Select(p => WithStatus(p, statuses.Get(p.Metadata.Uid)))
            .OrderBy(p => p.Metadata.NamespaceProperty, StringComparer.Ordinal)
            .ThenBy(p => p.Metadata.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Pods admitted and rejected (for tests of churn: zero once every pod is gone).</summary>
    internal int Count
    {
        get
        {
            lock (_lock)
            {
                return _admitted.Count + _rejected.Count;
            }
        }
    }

    private void Handle(PodUpdate update)
    {
        foreach (var pod in update.Pods)
        {
            try
            {
                switch (update.Op)
                {
                    case PodOperation.Add:
                        Add(pod);
                        break;
                    case PodOperation.Update:
                        if (Replace(pod))
                        {
                            workers.UpdatePod(pod);
                        }

                        break;
                    case PodOperation.Reconcile:
                        // Only the API's copy of the status changed (often our own write coming back through the
                        // watch): kubelet's HandlePodReconcile keeps the pod and does not sync it for that.
                        Replace(pod);
                        break;
                    case PodOperation.Remove:
                    case PodOperation.Delete:
                        Remove(pod);
                        break;
                }
            }
            catch (Exception e)
            {
                var name = pod?.Metadata is not null ? PodPaths.FullName(pod) : "(no metadata)";
                var error = $"{update.Op} {name}: {e.GetType().Name}: {e.Message}";
                LogPodFailed(name, update.Op.ToString(), e.ToString());
                _health.Survived(LoopName, error);
            }
        }
    }

    private async Task CleanUpOrphansAsync(IReadOnlySet<string> wanted, CancellationToken cancellationToken)
    {
        try
        {
            await orphans.KillOrphansAsync(wanted, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            LogOrphansFailed(e.ToString());
            _health.Failed(OrphanPodKiller.LoopName, $"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            _orphansDone.TrySetResult();
        }
    }

    private void Add(V1Pod pod)
    {
        var uid = pod.Metadata.Uid;
        AdmissionRejection? rejection;
        lock (_lock)
        {
            if (_admitted.ContainsKey(uid))
            {
                _admitted[uid] = pod;
                rejection = null;
            }
            else
            {
                rejection = admission.Admit(pod, _admitted.Values);
                if (rejection is null)
                {
                    _admitted[uid] = pod;
                    _rejected.Remove(uid);
                }
                else
                {
                    _rejected[uid] = pod;
                }
            }
        }

        if (rejection is null)
        {
            workers.UpdatePod(pod);
            return;
        }

        LogRejected(PodPaths.FullName(pod), rejection.Reason, rejection.Message);
        events.Record(pod, "Warning", rejection.Reason, rejection.Message);
        statuses.Set(pod, new V1PodStatus
        {
            Phase = "Failed",
            Reason = rejection.Reason,
            Message = rejection.Message,
            QosClass = QosClassifier.Classify(pod).ToString(),
            StartTime = time.GetUtcNow().UtcDateTime,
        });
    }

    private bool Replace(V1Pod pod)
    {
        lock (_lock)
        {
            if (_admitted.ContainsKey(pod.Metadata.Uid))
            {
                _admitted[pod.Metadata.Uid] = pod;
                return true;
            }

            if (_rejected.ContainsKey(pod.Metadata.Uid))
            {
                _rejected[pod.Metadata.Uid] = pod;
            }
        }

        return false;
    }

    private void Remove(V1Pod pod)
    {
        var uid = pod.Metadata.Uid;
        bool admitted;
        lock (_lock)
        {
            admitted = _admitted.Remove(uid);
            _rejected.Remove(uid);
        }

        if (admitted)
        {
            workers.RemovePod(uid, GracePeriods.For(pod));
        }
        else
        {
            statuses.Remove(uid);
            events.Forget(uid);
        }
    }

    private HashSet<string> WantedUids()
    {
        lock (_lock)
        {
            return [.. _admitted.Keys];
        }
    }

    private static V1Pod WithStatus(V1Pod pod, V1PodStatus? status) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = pod.Metadata,
        Spec = pod.Spec,
        Status = status ?? new V1PodStatus { Phase = "Pending", QosClass = QosClassifier.Classify(pod).ToString() },
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Pod} rejected: {Reason}: {Message}")]
    private partial void LogRejected(string pod, string reason, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "pod {Pod}: handling {Op} failed: {Error}")]
    private partial void LogPodFailed(string pod, string op, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "orphan pod cleanup failed: {Error}")]
    private partial void LogOrphansFailed(string error);
}
