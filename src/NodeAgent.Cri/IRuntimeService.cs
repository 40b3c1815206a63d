namespace NodeAgent.Cri;

/// <summary>
/// The CRI's RuntimeService as a C# interface: the pod workers drive sandboxes and containers through it, and a
/// CRI gRPC endpoint over it would be a thin adapter.
/// </summary>
public interface IRuntimeService
{
    Task<string> RunPodSandboxAsync(PodSandboxConfig config, CancellationToken cancellationToken);

    Task StopPodSandboxAsync(string sandboxId, CancellationToken cancellationToken);

    Task RemovePodSandboxAsync(string sandboxId, CancellationToken cancellationToken);

    PodSandboxStatus? PodSandboxStatus(string sandboxId);

    /// <summary>Sandboxes matching <paramref name="filter"/> (all without one), from memory: no file is read.</summary>
    IReadOnlyList<PodSandboxStatus> ListPodSandboxes(PodSandboxFilter? filter = null);

    Task<string> CreateContainerAsync(string sandboxId, ContainerConfig config, CancellationToken cancellationToken);

    Task StartContainerAsync(string containerId, CancellationToken cancellationToken);

    /// <summary>Sends the stop signal, waits up to <paramref name="timeout"/>, then SIGKILL.</summary>
    Task StopContainerAsync(string containerId, TimeSpan timeout, CancellationToken cancellationToken);

    Task RemoveContainerAsync(string containerId, CancellationToken cancellationToken);

    /// <summary>Containers matching <paramref name="filter"/> (all without one), from memory: no file is read.</summary>
    IReadOnlyList<ContainerStatus> ListContainers(ContainerFilter? filter = null);

    ContainerStatus? ContainerStatus(string containerId);

    /// <summary>Completes when the container has exited (at once if it already has).</summary>
    Task WaitContainerAsync(string containerId, CancellationToken cancellationToken);

    /// <summary>
    /// Runs <paramref name="command"/> inside the running container as its init runs (namespaces, cgroups, user,
    /// groups, capabilities, no_new_privs, cwd, environment), waits for it and returns its exit code and output
    /// (each stream capped at <see cref="ExecSyncResult.MaxOutputBytes"/>). A <paramref name="timeout"/> above zero
    /// kills the command and its process group when it elapses. Throws <see cref="RuntimeException"/>: NotFound for
    /// an unknown container, FailedPrecondition for one that does not run, StartError when the command cannot start.
    /// </summary>
    Task<ExecSyncResult> ExecSyncAsync(string containerId, IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Starts a command inside the running container with streams (stdin, tty) and returns the session; errors as <see cref="ExecSyncAsync"/>.</summary>
    Task<IExecSession> ExecAsync(ExecRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Subscribes to container lifecycle events, pushed as the kernel reports them, from now on. Every subscriber sees
    /// every event in its own bounded queue (see <see cref="IContainerEventSubscription"/> for the overflow policy).
    /// </summary>
    IContainerEventSubscription SubscribeEvents();
}
