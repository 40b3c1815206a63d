namespace NodeAgent.Kubelet.Eviction;

/// <summary>Why a pod is evicted: the eviction signal (<c>kubelet_evictions{eviction_signal}</c>) and kubelet's
/// message, which becomes the pod's status message and the <c>Evicted</c> event's.</summary>
public sealed record EvictionDecision(string Signal, string Message);
