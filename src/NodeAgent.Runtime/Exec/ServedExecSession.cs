using NodeAgent.Cri;

namespace NodeAgent.Runtime.Exec;

/// <summary>
/// One command run by a container's exec server: its pipes are the runtime's (<see cref="ExecStdio"/>), its exit
/// comes in the server's <c>Exited</c> reply (the server is its parent and reaps it), and a kill asks the server to
/// SIGKILL the command's process group while it is still unreaped, so the group ID cannot have been reused.
/// </summary>
internal sealed class ServedExecSession : IExecSession
{
    private readonly ExecServerConnection _server;
    private readonly int _id;
    private readonly ExecStdio _stdio;
    private readonly TaskCompletionSource<(bool Started, string? Reason, int Code)> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ServedExecSession(ExecServerConnection server, int id, ExecStdio stdio)
    {
        _server = server;
        _id = id;
        _stdio = stdio;
    }

    /// <summary>(true, null, 0) once running; (false, reason, exit code) when it could not start; (false, null, 0) when the server went away first.</summary>
    public Task<(bool Started, string? Reason, int Code)> Started => _started.Task;

    public Stream? Stdin => _stdio.Stdin;

    public Stream Stdout => _stdio.Stdout;

    public Stream? Stderr => _stdio.Stderr;

    public Task<int> Exited => _exited.Task;

    public void Resize(TerminalSize size)
    {
        // No tty: commands with one use a one-shot helper.
    }

    public void Kill()
    {
        if (!_exited.Task.IsCompleted)
        {
            _server.Kill(_id);
        }
    }

    internal bool OnStarted() => _started.TrySetResult((true, null, 0));

    internal bool OnFailed(string reason, int code)
    {
        _exited.TrySetResult(code);
        return _started.TrySetResult((false, reason, code));
    }

    /// <summary>An exit before the start was confirmed is a protocol violation.</summary>
    internal bool OnExited(int code) => _started.Task.IsCompletedSuccessfully && _started.Task.Result.Started && _exited.TrySetResult(code);

    internal void OnServerGone()
    {
        _started.TrySetResult((false, null, 0));
        if (_exited.TrySetException(_server.Lost()))
        {
            _ = _exited.Task.Exception; // observed: a caller that never awaits it is not an error
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await Exited;
        }
        catch (RuntimeException)
        {
            // The server went away; the command's exit is unknown.
        }
        finally
        {
            _stdio.Dispose();
        }
    }
}
