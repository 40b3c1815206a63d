using Microsoft.Extensions.Logging;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// kubelet's PLEG without the relisting: the runtime pushes container lifecycle events (from pidfds), and each one
/// wakes the worker of the pod the container belongs to (its <c>io.kubernetes.pod.uid</c> label). After a Resync (this
/// subscriber fell behind and lost events) it wakes the worker of every pod that has containers.
/// </summary>
public sealed partial class RuntimeEventRouter(IRuntimeService runtime, PodWorkers workers, ILogger<RuntimeEventRouter> logger)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Subscribed before the first list, so nothing that happens after it is missed.
        using var events = runtime.SubscribeEvents();
        LogAdopted(runtime.ListContainers(new ContainerFilter { State = ContainerState.Running }).Count);
        await foreach (var e in events.Reader.ReadAllAsync(cancellationToken))
        {
            if (e.Type == ContainerEventType.Resync)
            {
                LogResync();
                foreach (var podUid in runtime.ListContainers().Select(c => c.Labels.GetValueOrDefault(ContainerConfigFactory.PodUidLabel)).Distinct())
                {
                    if (podUid is not null)
                    {
                        workers.Notify(podUid);
                    }
                }

                continue;
            }

            var status = runtime.ContainerStatus(e.ContainerId);
            if (status is null)
            {
                continue;
            }

            if (e.Type == ContainerEventType.Exited)
            {
                LogExited(status.Name, e.ContainerId[..12], status.ExitCode, status.Reason ?? "");
            }

            if (status.Labels.TryGetValue(ContainerConfigFactory.PodUidLabel, out var uid))
            {
                workers.Notify(uid);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} container(s) running at start")]
    private partial void LogAdopted(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "runtime events were dropped (this reader fell behind): waking every pod's worker")]
    private partial void LogResync();

    [LoggerMessage(Level = LogLevel.Information, Message = "container {Name} ({Id}) exited with code {Code} {Reason}")]
    private partial void LogExited(string name, string id, int code, string reason);
}
