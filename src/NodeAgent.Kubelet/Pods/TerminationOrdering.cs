using k8s.Models;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// kubelet's terminationOrdering for a pod with sidecars: every container being stopped runs its preStop hook at
/// once, but a sidecar sends its stop signal only after every regular container and every sidecar declared after it
/// has stopped (sidecars go in reverse order), or when its grace period runs out. Containers not being stopped do
/// not hold anyone up.
/// </summary>
public sealed class TerminationOrdering
{
    private readonly Dictionary<string, TaskCompletionSource> _stopped = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> _waitsFor = new(StringComparer.Ordinal);

    /// <param name="pod">The pod's spec gives the order.</param>
    /// <param name="stopping">Names of the containers being stopped.</param>
    public TerminationOrdering(V1Pod pod, IEnumerable<string> stopping)
    {
        foreach (var name in stopping)
        {
            _stopped[name] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        // A pod that failed validation may reach a kill with no spec at all: nothing to order then.
        var regular = (pod.Spec?.Containers ?? []).Select(c => c.Name).Where(_stopped.ContainsKey).ToList();
        var sidecars = (pod.Spec?.InitContainers ?? []).Where(InitContainerPlan.IsSidecar).Select(c => c.Name).ToList();
        for (var i = 0; i < sidecars.Count; i++)
        {
            _waitsFor[sidecars[i]] = [.. regular, .. sidecars.Skip(i + 1).Where(_stopped.ContainsKey)];
        }
    }

    /// <summary>Who <paramref name="name"/> waits for before its stop signal (tests).</summary>
    public IReadOnlyList<string> WaitsFor(string name) => _waitsFor.GetValueOrDefault(name) ?? [];

    /// <summary>Waits until the containers <paramref name="name"/> must outlive have stopped, at most
    /// <paramref name="limit"/>; returns how long it waited.</summary>
    public async Task<TimeSpan> WaitForTurnAsync(string name, TimeSpan limit, TimeProvider time, CancellationToken cancellationToken)
    {
        var before = _waitsFor.GetValueOrDefault(name);
        if (before is not { Length: > 0 } || limit <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        var began = time.GetTimestamp();
        var all = Task.WhenAll(before.Select(n => _stopped[n].Task));
        await Task.WhenAny(all, Task.Delay(GracePeriods.Saturate(limit), time, cancellationToken));
        cancellationToken.ThrowIfCancellationRequested();
        return time.GetElapsedTime(began);
    }

    /// <summary>The container has stopped (or failed to; it holds nobody up any longer).</summary>
    public void Stopped(string name)
    {
        if (_stopped.TryGetValue(name, out var done))
        {
            done.TrySetResult();
        }
    }
}
