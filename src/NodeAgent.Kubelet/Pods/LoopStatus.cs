namespace NodeAgent.Kubelet.Pods;

/// <summary>One loop's health: its state, since when, the error that failed it (or the last one it survived) and
/// how many times it was restarted.</summary>
public sealed record LoopStatus(string Name, LoopState State, DateTimeOffset Since, string? LastError, int Restarts);
