using Microsoft.Extensions.Logging;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// kubelet's PLEG without the relisting: the runtime pushes container lifecycle events (from pidfds), and each one
/// wakes the worker of the pod the container belongs to (its <c>io.kubernetes.pod.uid</c> label).
/// </summary>
public sealed partial class RuntimeEventRouter(IRuntimeService runtime, PodWorkers workers, ILogger<RuntimeEventRouter> logger)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        LogAdopted(runtime.ListContainers().Count(c => c.State == ContainerState.Running));
        await foreach (var e in runtime.Events.ReadAllAsync(cancellationToken))
        {
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

    [LoggerMessage(Level = LogLevel.Information, Message = "container {Name} ({Id}) exited with code {Code} {Reason}")]
    private partial void LogExited(string name, string id, int code, string reason);
}
