namespace NodeAgent.Kubelet.Pods;

/// <summary>What one sync left behind: containers that are waiting and why, and when to sync again at the latest.</summary>
public sealed record PodSyncResult(IReadOnlyDictionary<string, ContainerWaiting> Waiting, TimeSpan? RetryAfter)
{
    /// <summary>The pod failed as a whole (kubelet's pod-level reasons, e.g. DeadlineExceeded): phase Failed with this
    /// reason and message.</summary>
    public PodFailure? Failure { get; init; }
}

/// <summary>A pod-level failure: the status' reason and message.</summary>
public sealed record PodFailure(string Reason, string Message);
