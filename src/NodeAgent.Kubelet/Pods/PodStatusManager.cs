using k8s.Models;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// kubelet's status manager: holds the status last computed for each pod and publishes a pod only when its status
/// changed. Each published status gets a version (growing per pod and across pods); writers (the local /pods view,
/// later the API server's status writer, metrics) read the changes, removals included, from their own
/// <see cref="Subscribe">subscription</see> at their own pace, never on the pod worker's thread.
/// </summary>
public sealed class PodStatusManager
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _pods = new(StringComparer.Ordinal);
    private readonly List<PodStatusSubscription> _subscriptions = [];
    private long _version;

    /// <summary>The newest version handed out (0 before any change).</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Pods with a status (for tests of churn: empty after every pod is gone).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _pods.Count;
            }
        }
    }

    /// <summary>Stores the status; returns false when nothing but transition times would change.</summary>
    public bool Set(V1Pod pod, V1PodStatus status)
    {
        var uid = pod.Metadata.Uid;
        var fingerprint = Fingerprint(status);
        var copy = new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = pod.Metadata,
            Spec = pod.Spec,
            Status = status,
        };
        lock (_lock)
        {
            if (_pods.TryGetValue(uid, out var old) && old.Fingerprint == fingerprint)
            {
                return false;
            }

            var version = Interlocked.Increment(ref _version);
            _pods[uid] = new Entry(copy, fingerprint, version);
            Publish(new PodStatusChange(uid, version, copy));
            return true;
        }
    }

    public V1PodStatus? Get(string uid)
    {
        lock (_lock)
        {
            return _pods.TryGetValue(uid, out var e) ? e.Pod.Status : null;
        }
    }

    /// <summary>The pod's current status and its version, or null.</summary>
    public PodStatusChange? GetVersioned(string uid)
    {
        lock (_lock)
        {
            return _pods.TryGetValue(uid, out var e) ? new PodStatusChange(uid, e.Version, e.Pod) : null;
        }
    }

    /// <summary>Forgets the pod; subscribers see its removal.</summary>
    public void Remove(string uid)
    {
        lock (_lock)
        {
            if (_pods.Remove(uid))
            {
                Publish(new PodStatusChange(uid, Interlocked.Increment(ref _version), null));
            }
        }
    }

    /// <summary>Every known pod with its latest status, ordered by namespace and name.</summary>
    public IReadOnlyList<V1Pod> List()
    {
        List<V1Pod> pods;
        lock (_lock)
        {
            pods = _pods.Values.Select(e => e.Pod).ToList();
        }

        return pods
            .OrderBy(p => p.Metadata.NamespaceProperty, StringComparer.Ordinal)
            .ThenBy(p => p.Metadata.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// A channel of changes from now on, starting with the current status of every pod. Dispose it when done.
    /// </summary>
    public PodStatusSubscription Subscribe()
    {
        var subscription = new PodStatusSubscription(Unsubscribe);
        lock (_lock)
        {
            foreach (var (uid, e) in _pods.OrderBy(kv => kv.Value.Version))
            {
                subscription.Publish(new PodStatusChange(uid, e.Version, e.Pod));
            }

            _subscriptions.Add(subscription);
        }

        return subscription;
    }

    private void Unsubscribe(PodStatusSubscription subscription)
    {
        lock (_lock)
        {
            _subscriptions.Remove(subscription);
        }
    }

    private void Publish(PodStatusChange change)
    {
        foreach (var s in _subscriptions)
        {
            s.Publish(change);
        }
    }

    private static string Fingerprint(V1PodStatus status) => k8s.KubernetesJson.Serialize(status);

    private sealed record Entry(V1Pod Pod, string Fingerprint, long Version);
}
