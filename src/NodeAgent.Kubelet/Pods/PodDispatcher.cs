using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Config;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// kubelet's syncLoop for config updates: reads <see cref="PodConfig.Updates"/>, admits new pods (pods beyond
/// capacity fail with the admission reason and never run), hands admitted pods to their workers, stops removed ones,
/// and once every source has been seen stops runtime pods nobody wants any more (left from before a restart).
/// It also answers "which pods does this node have" for the read-only API, with their latest statuses.
/// </summary>
public sealed partial class PodDispatcher(
    PodConfig config,
    PodWorkers workers,
    PodStatusManager statuses,
    PodAdmission admission,
    IPodEventRecorder events,
    OrphanPodKiller orphans,
    TimeProvider time,
    ILogger<PodDispatcher> logger) : IPodLister
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, V1Pod> _admitted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, V1Pod> _rejected = new(StringComparer.Ordinal);
    private bool _cleanedUp;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await foreach (var update in config.Updates.ReadAllAsync(cancellationToken))
        {
            switch (update.Op)
            {
                case PodOperation.Add:
                    foreach (var pod in update.Pods)
                    {
                        Add(pod);
                    }

                    break;
                case PodOperation.Update:
                case PodOperation.Reconcile:
                    foreach (var pod in update.Pods)
                    {
                        if (Replace(pod))
                        {
                            workers.UpdatePod(pod);
                        }
                    }

                    break;
                case PodOperation.Remove:
                case PodOperation.Delete:
                    foreach (var pod in update.Pods)
                    {
                        Remove(pod);
                    }

                    break;
            }

            if (!_cleanedUp && config.SeenAllSources)
            {
                _cleanedUp = true;
                await orphans.KillOrphansAsync(WantedUids(), cancellationToken);
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
                rejection = admission.Admit(pod, _admitted.Count);
                if (rejection is null)
                {
                    _admitted[uid] = pod;
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
            workers.RemovePod(uid);
        }
        else
        {
            statuses.Remove(uid);
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
}
