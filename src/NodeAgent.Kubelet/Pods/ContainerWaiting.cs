namespace NodeAgent.Kubelet.Pods;

/// <summary>Why a container is not running, as kubelet reports it (ContainerCreating, CrashLoopBackOff, ErrImageNeverPull…).</summary>
public sealed record ContainerWaiting(string Reason, string? Message = null);
