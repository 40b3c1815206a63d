namespace NodeAgent.Cri;

/// <summary>
/// The CRI's stats calls (ContainerStats, ListContainerStats, PodSandboxStats, ListPodSandboxStats) over one cached
/// collection: readings are taken at most once per interval and shared by every caller, so the kubelet's endpoints
/// (<c>/metrics/cadvisor</c>, <c>/metrics/resource</c>, <c>/stats/summary</c>) cost one collection between them.
/// Containers that vanish while being read are left out; the snapshot stays valid.
/// </summary>
public interface IRuntimeStats
{
    /// <summary>The current snapshot: the cached one while it is fresh, otherwise a new collection (one at a time).</summary>
    ValueTask<RuntimeStatsSnapshot> SnapshotAsync(CancellationToken cancellationToken);

    async ValueTask<IReadOnlyList<ContainerStats>> ListContainerStatsAsync(CancellationToken cancellationToken) =>
        (await SnapshotAsync(cancellationToken).ConfigureAwait(false)).Containers;

    async ValueTask<ContainerStats?> ContainerStatsAsync(string containerId, CancellationToken cancellationToken) =>
        (await SnapshotAsync(cancellationToken).ConfigureAwait(false)).Containers.FirstOrDefault(c => c.Id == containerId);

    async ValueTask<IReadOnlyList<PodSandboxStats>> ListPodSandboxStatsAsync(CancellationToken cancellationToken) =>
        (await SnapshotAsync(cancellationToken).ConfigureAwait(false)).Pods;

    async ValueTask<PodSandboxStats?> PodSandboxStatsAsync(string sandboxId, CancellationToken cancellationToken) =>
        (await SnapshotAsync(cancellationToken).ConfigureAwait(false)).Pods.FirstOrDefault(p => p.Id == sandboxId);
}
