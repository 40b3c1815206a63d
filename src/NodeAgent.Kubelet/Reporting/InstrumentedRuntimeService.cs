using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Reporting;

/// <summary>
/// kubelet's <c>instrumentedRuntimeService</c>: every CRI call of the kubelet counted, timed and its failures counted
/// under kubelet's operation names. <see cref="IRuntimeService.WaitContainerAsync"/> (no CRI call; it lasts as long as
/// the container) passes through uncounted; <see cref="IRuntimeService.SubscribeEvents"/> is counted as
/// <c>get_container_events</c>, kubelet's name for the event stream.
/// </summary>
public sealed class InstrumentedRuntimeService(IRuntimeService inner, RuntimeOperationMetrics metrics) : IRuntimeService
{
    public Task<string> RunPodSandboxAsync(PodSandboxConfig config, CancellationToken cancellationToken) =>
        metrics.MeasureAsync("run_podsandbox", () => inner.RunPodSandboxAsync(config, cancellationToken));

    public Task StopPodSandboxAsync(string sandboxId, CancellationToken cancellationToken) =>
        metrics.MeasureAsync("stop_podsandbox", () => inner.StopPodSandboxAsync(sandboxId, cancellationToken));

    public Task RemovePodSandboxAsync(string sandboxId, CancellationToken cancellationToken) =>
        metrics.MeasureAsync("remove_podsandbox", () => inner.RemovePodSandboxAsync(sandboxId, cancellationToken));

    public PodSandboxStatus? PodSandboxStatus(string sandboxId) =>
        metrics.Measure("podsandbox_status", () => inner.PodSandboxStatus(sandboxId));

    public IReadOnlyList<PodSandboxStatus> ListPodSandboxes(PodSandboxFilter? filter = null) =>
        metrics.Measure("list_podsandbox", () => inner.ListPodSandboxes(filter));

    public Task<string> CreateContainerAsync(string sandboxId, ContainerConfig config, CancellationToken cancellationToken) =>
        metrics.MeasureAsync("create_container", () => inner.CreateContainerAsync(sandboxId, config, cancellationToken));

    public Task StartContainerAsync(string containerId, CancellationToken cancellationToken) =>
        metrics.MeasureAsync("start_container", () => inner.StartContainerAsync(containerId, cancellationToken));

    public Task StopContainerAsync(string containerId, TimeSpan timeout, CancellationToken cancellationToken) =>
        metrics.MeasureAsync("stop_container", () => inner.StopContainerAsync(containerId, timeout, cancellationToken));

    public Task RemoveContainerAsync(string containerId, CancellationToken cancellationToken) =>
        metrics.MeasureAsync("remove_container", () => inner.RemoveContainerAsync(containerId, cancellationToken));

    public IReadOnlyList<ContainerStatus> ListContainers(ContainerFilter? filter = null) =>
        metrics.Measure("list_containers", () => inner.ListContainers(filter));

    public ContainerStatus? ContainerStatus(string containerId) =>
        metrics.Measure("container_status", () => inner.ContainerStatus(containerId));

    public Task WaitContainerAsync(string containerId, CancellationToken cancellationToken) =>
        inner.WaitContainerAsync(containerId, cancellationToken);

    public Task<ExecSyncResult> ExecSyncAsync(string containerId, IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken) =>
        metrics.MeasureAsync("exec_sync", () => inner.ExecSyncAsync(containerId, command, timeout, cancellationToken));

    public Task<IExecSession> ExecAsync(ExecRequest request, CancellationToken cancellationToken) =>
        metrics.MeasureAsync("exec", () => inner.ExecAsync(request, cancellationToken));

    public IContainerEventSubscription SubscribeEvents() =>
        metrics.Measure("get_container_events", inner.SubscribeEvents);
}
