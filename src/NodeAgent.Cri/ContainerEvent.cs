namespace NodeAgent.Cri;

/// <summary>
/// Started and Exited concern one container; Resync (empty IDs) tells a subscriber that events were dropped because
/// it fell behind, so it must relist the runtime's state.
/// </summary>
public enum ContainerEventType { Started, Exited, Resync }

/// <summary>A lifecycle event pushed by the runtime (the pod workers' PLEG input).</summary>
public sealed record ContainerEvent(ContainerEventType Type, string ContainerId, string SandboxId, DateTimeOffset At);
