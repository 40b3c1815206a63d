using System.Collections.Concurrent;

namespace NodeAgent.Kubelet.Prober;

/// <summary>
/// kubelet's results managers, one map for all three kinds: the last result each probe worker published for a
/// container instance. A change of a result calls <see cref="Changed"/> with the pod's UID (the pod worker syncs:
/// readiness into the status, a liveness or startup failure into a restart).
/// </summary>
public sealed class ProbeResults
{
    private readonly ConcurrentDictionary<(string ContainerId, ProbeKind Kind), ProbeResult> _results = new();

    /// <summary>A result changed for a container of the pod with this UID.</summary>
    public event Action<string>? Changed;

    public ProbeResult? Get(string containerId, ProbeKind kind) => _results.TryGetValue((containerId, kind), out var r) ? r : null;

    public void Set(string podUid, string containerId, ProbeKind kind, ProbeResult result)
    {
        var changed = true;
        _results.AddOrUpdate((containerId, kind), result, (_, old) =>
        {
            changed = old != result;
            return result;
        });
        if (changed)
        {
            Changed?.Invoke(podUid);
        }
    }

    public void Remove(string containerId, ProbeKind kind) => _results.TryRemove((containerId, kind), out _);

    public int Count => _results.Count;
}
