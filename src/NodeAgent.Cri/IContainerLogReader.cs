namespace NodeAgent.Cri;

/// <summary>
/// Reads a container's CRI log (the file <see cref="ContainerStatus.LogPath"/> names) as kubelet's log endpoint
/// does: rotated files first, P chunks joined with their F, then <c>tail</c>, <c>since</c> and <c>follow</c>. The
/// kubelet side serves logs through this seam; the runtime side implements it over its log format.
/// </summary>
public interface IContainerLogReader
{
    IAsyncEnumerable<ContainerLogLine> ReadAsync(string logPath, ContainerLogReadOptions options, CancellationToken cancellationToken);
}

/// <summary>kubelet's log options as the reader applies them (<c>limitBytes</c> and <c>timestamps</c> are the writer's).</summary>
public sealed record ContainerLogReadOptions
{
    /// <summary>Only the last N logical lines of what exists when reading starts; null for all.</summary>
    public int? Tail { get; init; }

    /// <summary>Skip lines stamped before this time (after <see cref="Tail"/>, as kubelet applies them).</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Keep waiting for appended lines until cancelled or <see cref="FollowUntil"/> completes.</summary>
    public bool Follow { get; init; }

    /// <summary>With <see cref="Follow"/>: once this completes (the container exited), read what is left and end.</summary>
    public Task? FollowUntil { get; init; }
}

/// <summary>One logical log line.</summary>
/// <param name="Complete">False when the line ended without a newline (the log ended mid-line).</param>
public readonly record struct ContainerLogLine(DateTimeOffset Timestamp, bool Stderr, string Content, bool Complete = true);
