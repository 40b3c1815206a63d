namespace NodeAgent.Cri;

/// <summary>A streaming exec into a running container (the CRI's ExecRequest, without the URL step).</summary>
public sealed record ExecRequest
{
    public required string ContainerId { get; init; }

    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Run the command on a terminal: stdout and stderr are then one stream, and the size can be changed.</summary>
    public bool Tty { get; init; }

    /// <summary>The terminal's size before the command starts (later changes through <see cref="IExecSession.Resize"/>).</summary>
    public TerminalSize? InitialSize { get; init; }

    /// <summary>Give the command a stdin to write to (otherwise it reads /dev/null, or nothing from the terminal).</summary>
    public bool Stdin { get; init; }

    /// <summary>Extra <c>NAME=value</c> variables over the container's own (not in the CRI; for hooks and the CLI).</summary>
    public IReadOnlyList<string> Env { get; init; } = [];
}
