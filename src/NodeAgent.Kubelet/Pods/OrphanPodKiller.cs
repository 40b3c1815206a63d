using System.Globalization;
using Microsoft.Extensions.Logging;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// kubelet's HandlePodCleanups for the runtime: pods the runtime still runs but no source wants any more (their
/// manifest went away while the agent was down) are stopped with the grace period their containers recorded and
/// their sandboxes removed. Only sandboxes the kubelet made (labelled with a pod UID) are touched, never
/// <c>nodeagent ctr run</c> containers.
/// </summary>
public sealed partial class OrphanPodKiller(IRuntimeService runtime, ILogger<OrphanPodKiller> logger, PodVolumes? volumes = null)
{
    public async Task KillOrphansAsync(IReadOnlySet<string> wantedUids, CancellationToken cancellationToken)
    {
        var orphans = runtime.ListPodSandboxes()
            .Where(s => s.Config.Labels.ContainsKey(ContainerConfigFactory.PodUidLabel) && !wantedUids.Contains(s.Config.Uid))
            .ToList();
        await Task.WhenAll(orphans.Select(s => KillAsync(s, cancellationToken)));
    }

    private async Task KillAsync(PodSandboxStatus sandbox, CancellationToken cancellationToken)
    {
        LogOrphan(sandbox.Config.Name, sandbox.Config.Namespace, sandbox.Config.Uid);
        var running = runtime.ListContainers().Where(c => c.SandboxId == sandbox.Id && c.State == ContainerState.Running);
        await Task.WhenAll(running.Select(c => runtime.StopContainerAsync(c.Id, Grace(c), cancellationToken)));
        await runtime.RemovePodSandboxAsync(sandbox.Id, cancellationToken);
        volumes?.Remove(sandbox.Config.Uid);
        LogRemoved(sandbox.Config.Name, sandbox.Config.Namespace, sandbox.Config.Uid);
    }

    private static TimeSpan Grace(ContainerStatus c) =>
        c.Labels.TryGetValue(ContainerConfigFactory.GracePeriodLabel, out var s) && long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.FromSeconds(30);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Name}_{Namespace}({Uid}) is no longer wanted by any source: stopping it")]
    private partial void LogOrphan(string name, string @namespace, string uid);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Name}_{Namespace}({Uid}): stopped and removed")]
    private partial void LogRemoved(string name, string @namespace, string uid);
}
