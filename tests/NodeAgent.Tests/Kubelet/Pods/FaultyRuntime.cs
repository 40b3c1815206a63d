using System.Threading.Channels;
using NodeAgent.Cri;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>
/// The real runtime with faults injected: while <see cref="Fault"/> returns an exception for a call name
/// (e.g. "RunPodSandbox", "StopContainer"), that call throws it instead of reaching the runtime.
/// </summary>
internal sealed class FaultyRuntime(IRuntimeService inner) : IRuntimeService
{
    public volatile Func<string, Exception?> Fault = _ => null;

    private int _faults;

    /// <summary>How many calls failed by injection.</summary>
    public int Faults => Volatile.Read(ref _faults);

    private void Check(string call)
    {
        if (Fault(call) is { } e)
        {
            Interlocked.Increment(ref _faults);
            throw e;
        }
    }

    public Task<string> RunPodSandboxAsync(PodSandboxConfig config, CancellationToken cancellationToken)
    {
        Check("RunPodSandbox");
        return inner.RunPodSandboxAsync(config, cancellationToken);
    }

    public Task StopPodSandboxAsync(string sandboxId, CancellationToken cancellationToken)
    {
        Check("StopPodSandbox");
        return inner.StopPodSandboxAsync(sandboxId, cancellationToken);
    }

    public Task RemovePodSandboxAsync(string sandboxId, CancellationToken cancellationToken)
    {
        Check("RemovePodSandbox");
        return inner.RemovePodSandboxAsync(sandboxId, cancellationToken);
    }

    public PodSandboxStatus? PodSandboxStatus(string sandboxId) => inner.PodSandboxStatus(sandboxId);

    public IReadOnlyList<PodSandboxStatus> ListPodSandboxes(PodSandboxFilter? filter = null)
    {
        Check("ListPodSandboxes");
        return inner.ListPodSandboxes(filter);
    }

    public Task<string> CreateContainerAsync(string sandboxId, ContainerConfig config, CancellationToken cancellationToken)
    {
        Check("CreateContainer");
        return inner.CreateContainerAsync(sandboxId, config, cancellationToken);
    }

    public Task StartContainerAsync(string containerId, CancellationToken cancellationToken)
    {
        Check("StartContainer");
        return inner.StartContainerAsync(containerId, cancellationToken);
    }

    public Task StopContainerAsync(string containerId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Check("StopContainer");
        return inner.StopContainerAsync(containerId, timeout, cancellationToken);
    }

    public Task RemoveContainerAsync(string containerId, CancellationToken cancellationToken)
    {
        Check("RemoveContainer");
        return inner.RemoveContainerAsync(containerId, cancellationToken);
    }

    public IReadOnlyList<ContainerStatus> ListContainers(ContainerFilter? filter = null) => inner.ListContainers(filter);

    public ContainerStatus? ContainerStatus(string containerId) => inner.ContainerStatus(containerId);

    public Task WaitContainerAsync(string containerId, CancellationToken cancellationToken) => inner.WaitContainerAsync(containerId, cancellationToken);

    public Task<ExecSyncResult> ExecSyncAsync(string containerId, IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken) =>
        inner.ExecSyncAsync(containerId, command, timeout, cancellationToken);

    public Task<IExecSession> ExecAsync(ExecRequest request, CancellationToken cancellationToken) => inner.ExecAsync(request, cancellationToken);

    public IContainerEventSubscription SubscribeEvents() => inner.SubscribeEvents();
}
