namespace NodeAgent.Kubelet.Agent;

/// <summary>A loop that stopped unexpectedly: its name, why, and when.</summary>
public sealed record LoopFailure(string Loop, string Reason, DateTimeOffset At);
