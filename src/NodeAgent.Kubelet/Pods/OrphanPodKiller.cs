using Microsoft.Extensions.Logging;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// kubelet's HandlePodCleanups for the runtime: pods the runtime still runs but no source wants any more (their
/// manifest went away while the agent was down) are stopped with the grace period their containers recorded and
/// their sandboxes, volumes and log directories removed. Only sandboxes the kubelet made (labelled with a pod UID)
/// are touched, never <c>nodeagent ctr run</c> containers.
/// </summary>
/// <remarks>
/// Labels come from whatever agent made the container and are hostile input: a grace period that is garbage
/// counts as 30 s, one beyond what a timer holds saturates (<see cref="GracePeriods.FromLabel"/>). One orphan
/// that cannot be stopped is logged and never keeps the others from being cleaned up.
/// </remarks>
public sealed partial class OrphanPodKiller(
    IRuntimeService runtime,
    ILogger<OrphanPodKiller> logger,
    PodVolumes? volumes = null,
    string? podLogRoot = null,
    LoopHealth? health = null)
{
    public const string LoopName = "orphan pod cleanup";

    public async Task KillOrphansAsync(IReadOnlySet<string> wantedUids, CancellationToken cancellationToken)
    {
        health?.Running(LoopName);
        List<PodSandboxStatus> orphans;
        try
        {
            orphans = runtime.ListPodSandboxes()
                .Where(s => s.Config.Labels.ContainsKey(ContainerConfigFactory.PodUidLabel) && !wantedUids.Contains(s.Config.Uid))
                .ToList();
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogListFailed(e.Message);
            health?.Failed(LoopName, "listing pod sandboxes: " + e.Message);
            return;
        }

        await Task.WhenAll(orphans.Select(s => KillAsync(s, cancellationToken)));
        // kubelet's cleanupOrphanedPodDirs: what an agent that stopped left of pods that are gone (a memory-backed
        // emptyDir still mounted, its directories) goes too, mounts first.
        foreach (var error in volumes?.RemoveOrphans(wantedUids) ?? [])
        {
            LogDirectoryFailed(error);
        }

        health?.Forget(LoopName);
    }

    private async Task KillAsync(PodSandboxStatus sandbox, CancellationToken cancellationToken)
    {
        var (name, ns, uid) = (sandbox.Config.Name, sandbox.Config.Namespace, sandbox.Config.Uid);
        try
        {
            LogOrphan(name, ns, uid);
            var running = runtime.ListContainers().Where(c => c.SandboxId == sandbox.Id && c.State == ContainerState.Running);
            await Task.WhenAll(running.Select(c => runtime.StopContainerAsync(c.Id, Grace(c), cancellationToken)));
            await runtime.RemovePodSandboxAsync(sandbox.Id, cancellationToken);
            volumes?.Remove(uid);
            if (podLogRoot is not null)
            {
                PodPaths.RemoveLogDirectory(podLogRoot, ns, name, uid);
            }

            LogRemoved(name, ns, uid);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogKillFailed(name, ns, uid, $"{e.GetType().Name}: {e.Message}");
            health?.Survived(LoopName, $"pod {name}_{ns}({uid}): {e.Message}");
        }
    }

    /// <summary>The stop timeout of a container from its grace-period label, never throwing.</summary>
    public static TimeSpan Grace(ContainerStatus c) =>
        GracePeriods.FromLabel(c.Labels.GetValueOrDefault(ContainerConfigFactory.GracePeriodLabel));

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Name}_{Namespace}({Uid}) is no longer wanted by any source: stopping it")]
    private partial void LogOrphan(string name, string @namespace, string uid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "orphaned pod directory not removed: {Error}")]
    private partial void LogDirectoryFailed(string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Name}_{Namespace}({Uid}): stopped and removed")]
    private partial void LogRemoved(string name, string @namespace, string uid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Name}_{Namespace}({Uid}): orphan cleanup failed: {Error}")]
    private partial void LogKillFailed(string name, string @namespace, string uid, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "orphan cleanup: cannot list pod sandboxes: {Error}")]
    private partial void LogListFailed(string error);
}
