namespace NodeAgent.Cri;

public enum ContainerEventType { Started, Exited }

/// <summary>A lifecycle event pushed by the runtime (the pod workers' PLEG input).</summary>
public sealed record ContainerEvent(ContainerEventType Type, string ContainerId, string SandboxId, DateTimeOffset At);
