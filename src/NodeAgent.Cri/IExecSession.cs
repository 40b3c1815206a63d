namespace NodeAgent.Cri;

/// <summary>
/// A process started by <see cref="IRuntimeService.ExecAsync"/> inside a running container, with its streams: what
/// the kubelet API bridges to SPDY/WebSocket and <c>nodeagent ctr exec</c> to its own terminal. Disposing it kills
/// the process and everything it started (its process group) if it still runs.
/// </summary>
public interface IExecSession : IAsyncDisposable
{
    /// <summary>The command's stdin (the terminal's input with a tty); null unless <see cref="ExecRequest.Stdin"/>. Dispose it to send end-of-file (pipes only).</summary>
    Stream? Stdin { get; }

    /// <summary>The command's stdout (with a tty: the terminal's output, stdout and stderr together). Ends when the command and its children have closed it.</summary>
    Stream Stdout { get; }

    /// <summary>The command's stderr; null with a tty.</summary>
    Stream? Stderr { get; }

    /// <summary>The command's exit code (128+N when signal N ended it).</summary>
    Task<int> Exited { get; }

    /// <summary>Changes the terminal's size (the command gets SIGWINCH); ignored without a tty.</summary>
    void Resize(TerminalSize size);

    /// <summary>Sends SIGKILL to the command and every process of its process group.</summary>
    void Kill();
}
