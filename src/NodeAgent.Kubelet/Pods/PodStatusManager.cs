using System.Collections.Concurrent;
using k8s.Models;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// Holds the status last computed for each pod and publishes a pod only when its status changed (a version bump),
/// so the local /pods view, the API server writer and metrics read one consistent copy.
/// </summary>
public sealed class PodStatusManager
{
    private readonly ConcurrentDictionary<string, Entry> _pods = new();
    private long _version;

    /// <summary>Raised after a pod's status changed, with the pod (spec and new status).</summary>
    public event Action<V1Pod>? Changed;

    public long Version => Interlocked.Read(ref _version);

    /// <summary>Stores the status; returns false when nothing but transition times would change.</summary>
    public bool Set(V1Pod pod, V1PodStatus status)
    {
        var uid = pod.Metadata.Uid;
        var serialized = Fingerprint(status);
        if (_pods.TryGetValue(uid, out var old) && old.Fingerprint == serialized)
        {
            return false;
        }

        var copy = new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = pod.Metadata,
            Spec = pod.Spec,
            Status = status,
        };
        _pods[uid] = new Entry(copy, serialized);
        Interlocked.Increment(ref _version);
        Changed?.Invoke(copy);
        return true;
    }

    public V1PodStatus? Get(string uid) => _pods.TryGetValue(uid, out var e) ? e.Pod.Status : null;

    public void Remove(string uid)
    {
        if (_pods.TryRemove(uid, out _))
        {
            Interlocked.Increment(ref _version);
        }
    }

    /// <summary>Every known pod with its latest status, ordered by namespace and name.</summary>
    public IReadOnlyList<V1Pod> List() =>
        _pods.Values.Select(e => e.Pod)
            .OrderBy(p => p.Metadata.NamespaceProperty, StringComparer.Ordinal)
            .ThenBy(p => p.Metadata.Name, StringComparer.Ordinal)
            .ToList();

    private static string Fingerprint(V1PodStatus status) => k8s.KubernetesJson.Serialize(status);

    private sealed record Entry(V1Pod Pod, string Fingerprint);
}
