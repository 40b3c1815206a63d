namespace NodeAgent.Kubelet.Pods;

/// <summary>What one sync left behind: containers that are waiting and why, and when to sync again at the latest.</summary>
public sealed record PodSyncResult(IReadOnlyDictionary<string, ContainerWaiting> Waiting, TimeSpan? RetryAfter);
