namespace NodeAgent.Cri;

/// <summary>
/// Attaches pod sandboxes to the node's pod network. The runtime calls it once a sandbox's network namespace
/// exists and when the sandbox goes; the daemon chooses the implementation (the built-in bridge or CNI plugins).
/// </summary>
public interface IPodNetwork
{
    /// <summary>Gives the sandbox an interface and address; on failure leaves nothing behind and throws.</summary>
    Task<PodNetworkStatus> SetUpAsync(PodNetworkRequest request, CancellationToken cancellationToken);

    /// <summary>Releases what <see cref="SetUpAsync"/> made. Idempotent; the namespace may be gone already.</summary>
    Task TearDownAsync(PodNetworkRequest request, CancellationToken cancellationToken);

    /// <summary>Verifies the sandbox's network is still as set up; throws naming what is wrong.</summary>
    Task CheckAsync(PodNetworkRequest request, CancellationToken cancellationToken);

    /// <summary>Releases addresses and rules held for sandboxes that no longer exist (after a crash or restart).</summary>
    Task ReconcileAsync(IReadOnlyCollection<string> liveSandboxIds, CancellationToken cancellationToken);
}
