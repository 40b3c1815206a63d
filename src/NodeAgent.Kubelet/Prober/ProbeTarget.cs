using k8s.Models;

namespace NodeAgent.Kubelet.Prober;

/// <summary>What one probe run aims at: the container (its running instance) and the pod's sandbox and address.</summary>
public sealed record ProbeTarget(V1Pod Pod, V1Container Container, string ContainerId, string SandboxId, string? PodIp);
