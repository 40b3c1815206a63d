namespace NodeAgent.Logs;

/// <summary>kubelet's log options: <c>tail</c>, <c>since</c> and <c>follow</c>.</summary>
public sealed record CriLogReadOptions
{
    /// <summary>Only the last N logical lines of what exists when reading starts; null for all.</summary>
    public int? Tail { get; init; }

    /// <summary>Skip lines stamped before this time (applied after <see cref="Tail"/>, as kubelet does).</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Keep waiting for appended lines (across rotations) until cancelled.</summary>
    public bool Follow { get; init; }

    /// <summary>
    /// With <see cref="Follow"/>: once this task completes (the container exited, its shim closed the log), read
    /// what is left and end instead of waiting for more.
    /// </summary>
    public Task? FollowUntil { get; init; }
}
