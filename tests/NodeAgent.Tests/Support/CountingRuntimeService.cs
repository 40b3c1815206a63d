using NodeAgent.Cri;

namespace NodeAgent.Tests.Support;

/// <summary>An <see cref="IRuntimeService"/> decorator that records the filter of every list call.</summary>
public sealed class CountingRuntimeService(IRuntimeService inner) : IRuntimeService
{
    private readonly List<PodSandboxFilter?> _sandboxLists = [];
    private readonly List<ContainerFilter?> _containerLists = [];

    public IReadOnlyList<PodSandboxFilter?> SandboxLists { get { lock (_sandboxLists) { return [.. _sandboxLists]; } } }

    public IReadOnlyList<ContainerFilter?> ContainerLists { get { lock (_containerLists) { return [.. _containerLists]; } } }

    public void Reset()
    {
        lock (_sandboxLists)
        {
            _sandboxLists.Clear();
        }

        lock (_containerLists)
        {
            _containerLists.Clear();
        }
    }

    public IReadOnlyList<PodSandboxStatus> ListPodSandboxes(PodSandboxFilter? filter = null)
    {
        lock (_sandboxLists)
        {
            _sandboxLists.Add(filter);
        }

        return inner.ListPodSandboxes(filter);
    }

    public IReadOnlyList<ContainerStatus> ListContainers(ContainerFilter? filter = null)
    {
        lock (_containerLists)
        {
            _containerLists.Add(filter);
        }

        return inner.ListContainers(filter);
    }

    public Task<string> RunPodSandboxAsync(PodSandboxConfig config, CancellationToken cancellationToken) => inner.RunPodSandboxAsync(config, cancellationToken);

    public Task StopPodSandboxAsync(string sandboxId, CancellationToken cancellationToken) => inner.StopPodSandboxAsync(sandboxId, cancellationToken);

    public Task RemovePodSandboxAsync(string sandboxId, CancellationToken cancellationToken) => inner.RemovePodSandboxAsync(sandboxId, cancellationToken);

    public PodSandboxStatus? PodSandboxStatus(string sandboxId) => inner.PodSandboxStatus(sandboxId);

    public Task<string> CreateContainerAsync(string sandboxId, ContainerConfig config, CancellationToken cancellationToken) => inner.CreateContainerAsync(sandboxId, config, cancellationToken);

    public Task StartContainerAsync(string containerId, CancellationToken cancellationToken) => inner.StartContainerAsync(containerId, cancellationToken);

    public Task StopContainerAsync(string containerId, TimeSpan timeout, CancellationToken cancellationToken) => inner.StopContainerAsync(containerId, timeout, cancellationToken);

    public Task RemoveContainerAsync(string containerId, CancellationToken cancellationToken) => inner.RemoveContainerAsync(containerId, cancellationToken);

    public ContainerStatus? ContainerStatus(string containerId) => inner.ContainerStatus(containerId);

    public Task WaitContainerAsync(string containerId, CancellationToken cancellationToken) => inner.WaitContainerAsync(containerId, cancellationToken);

    public Task<ExecSyncResult> ExecSyncAsync(string containerId, IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken) =>
        inner.ExecSyncAsync(containerId, command, timeout, cancellationToken);

    public Task<IExecSession> ExecAsync(ExecRequest request, CancellationToken cancellationToken) => inner.ExecAsync(request, cancellationToken);

    public IContainerEventSubscription SubscribeEvents() => inner.SubscribeEvents();
}
