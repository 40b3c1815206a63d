namespace NodeAgent.Cri;

/// <summary>
/// The result of <see cref="IRuntimeService.ExecSyncAsync"/>: exit code and captured output. Each stream keeps at most
/// <see cref="MaxOutputBytes"/> (containerd's ExecSync cap, 16 MiB); the rest is read and dropped, so the command is
/// never blocked on a full pipe, and the truncation is flagged.
/// </summary>
public sealed record ExecSyncResult
{
    public const int MaxOutputBytes = 16 * 1024 * 1024;

    public int ExitCode { get; init; }

    public required byte[] Stdout { get; init; }

    public required byte[] Stderr { get; init; }

    public bool StdoutTruncated { get; init; }

    public bool StderrTruncated { get; init; }

    /// <summary>The timeout elapsed: the command and its process group were killed (exit code 137 then).</summary>
    public bool TimedOut { get; init; }
}
