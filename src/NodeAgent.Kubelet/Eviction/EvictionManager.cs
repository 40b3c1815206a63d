using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Kubelet.Reporting;
using NodeAgent.Kubelet.Stats;

namespace NodeAgent.Kubelet.Eviction;

/// <summary>
/// kubelet's eviction manager, its local storage part (localStorageCapacityIsolation): every
/// <see cref="MonitoringPeriod"/> (kubelet's evictionMonitoringPeriod, 10 s) it reads the stats already collected — the
/// runtime's snapshot (writable layers and logs, measured in the background) and the volumes' usage
/// (<see cref="PodVolumeUsage"/>, walked in the background) — and evicts each active pod whose usage passes a limit
/// (<see cref="LocalStorageEviction"/>): an <c>Evicted</c> warning event, the pod stopped through its worker (phase
/// Failed, reason Evicted, kubelet's message; containers stopped with a 1 s grace period) and
/// <c>kubelet_evictions{eviction_signal}</c> counted. Critical pods (static, mirror, or priority of at least
/// system-cluster-critical) are never evicted, as kubelet's evictPod refuses them. No walk happens here.
/// </summary>
public sealed partial class EvictionManager(
    Func<IReadOnlyList<V1Pod>> activePods,
    IRuntimeStats stats,
    PodVolumeUsage volumes,
    IPodEvictor evictor,
    IPodEventRecorder events,
    TimeProvider time,
    ILogger<EvictionManager> logger,
    KubeletPodMetrics? metrics = null)
{
    /// <summary>kubelet's SystemCriticalPriority (2 × 10^9).</summary>
    public const int SystemCriticalPriority = 2_000_000_000;

    /// <summary>kubelet's immediateEvictionGracePeriodSeconds.</summary>
    public static readonly TimeSpan EvictionGrace = TimeSpan.FromSeconds(1);

    public const string Reason = "Evicted";

    /// <summary>How often usage is checked (kubelet: 10 s).</summary>
    public TimeSpan MonitoringPeriod { get; init; } = TimeSpan.FromSeconds(10);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(MonitoringPeriod, time);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            await SynchronizeAsync(cancellationToken);
        }
    }

    /// <summary>One round: the pods evicted now.</summary>
    public async Task<IReadOnlyList<V1Pod>> SynchronizeAsync(CancellationToken cancellationToken)
    {
        // Only pods with a limit to enforce: on a node where none sets one, a round reads no stats at all.
        var pods = activePods().Where(p => p.Status?.Phase is not ("Failed" or "Succeeded") && p.Metadata?.Uid is not null && LocalStorageEviction.HasLimits(p)).ToList();
        if (pods.Count == 0)
        {
            return [];
        }

        var snapshot = await stats.SnapshotAsync(cancellationToken);
        var evicted = new List<V1Pod>();
        foreach (var pod in pods)
        {
            var usage = UsageOf(pod, snapshot);
            if (usage is null || LocalStorageEviction.Decide(pod, usage) is not { } decision)
            {
                continue;
            }

            if (IsCritical(pod))
            {
                LogCritical(PodPaths.FullName(pod), decision.Message);
                continue;
            }

            if (!evictor.Evict(pod.Metadata.Uid, new PodFailure(Reason, decision.Message), EvictionGrace))
            {
                continue; // Already evicted, or gone.
            }

            events.Record(pod, "Warning", Reason, decision.Message);
            metrics?.Evicted(decision.Signal);
            LogEvicted(PodPaths.FullName(pod), decision.Signal, decision.Message);
            evicted.Add(pod);
        }

        return evicted;
    }

    /// <summary>kubelet's IsCriticalPod: static and mirror pods, and pods of system-critical priority.</summary>
    public static bool IsCritical(V1Pod pod)
    {
        var annotations = pod.Metadata?.Annotations;
        if (annotations is not null && (annotations.TryGetValue(ConfigAnnotations.Mirror, out _)
            || (annotations.TryGetValue(ConfigAnnotations.Source, out var source) && source != PodSourceNames.ApiServer)))
        {
            return true;
        }

        return pod.Spec?.Priority is >= SystemCriticalPriority;
    }

    /// <summary>The pod's usage from the stats; null when the runtime has no stats of its sandbox (kubelet skips it).</summary>
    private PodStorageUsage? UsageOf(V1Pod pod, RuntimeStatsSnapshot snapshot)
    {
        var uid = pod.Metadata.Uid;
        var sandboxes = snapshot.Pods.Where(p => p.Uid == uid).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        if (sandboxes.Count == 0)
        {
            return null;
        }

        var containers = snapshot.Containers
            .Where(c => sandboxes.Contains(c.SandboxId))
            .Select(c => new ContainerStorageUsage(c.Name, c.WritableLayer?.UsedBytes, c.Logs?.UsedBytes))
            .ToList();
        var volumeUsage = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var v in volumes.For(uid))
        {
            volumeUsage[v.Name] = v.UsedBytes;
        }

        return new PodStorageUsage(volumeUsage, containers);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Eviction manager: pod {Pod} evicted ({Signal}): {Message}")]
    private partial void LogEvicted(string pod, string signal, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "Eviction manager: cannot evict a critical pod {Pod}: {Message}")]
    private partial void LogCritical(string pod, string message);
}
