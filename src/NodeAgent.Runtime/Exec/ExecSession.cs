using NodeAgent.Cri;
using NodeAgent.Linux;

namespace NodeAgent.Runtime.Exec;

/// <summary>
/// One running exec: the helper's PID (which became the command: exec keeps the PID) is the leader of its own
/// session and process group. The exit is learnt from its pidfd in the runtime's epoll loop, then the child is reaped;
/// until then the PID, and so the process group ID, cannot be reused, which makes killing the group safe.
/// </summary>
internal sealed class ExecSession : IExecSession
{
    private readonly int _pid;
    private readonly PidFd _pidFd;
    private readonly ExecStdio _stdio;
    private readonly bool _tty;
    private readonly object _gate = new();
    private bool _reaped;

    public ExecSession(int pid, PidFd pidFd, ExitWatcher exits, ExecStdio stdio, bool tty)
    {
        _pid = pid;
        _pidFd = pidFd;
        _stdio = stdio;
        _tty = tty;
        Exited = WaitAsync(exits);
    }

    public Stream? Stdin => _stdio.Stdin;

    public Stream Stdout => _stdio.Stdout;

    public Stream? Stderr => _stdio.Stderr;

    public Task<int> Exited { get; }

    private async Task<int> WaitAsync(ExitWatcher exits)
    {
        await exits.WaitAsync(_pidFd);
        lock (_gate)
        {
            _reaped = true;
            return ProcessSpawner.WaitForExit(_pid);
        }
    }

    public void Resize(TerminalSize size)
    {
        if (_tty && _stdio.Terminal is { IsClosed: false } terminal)
        {
            Terminal.SetWindowSize(terminal, size.Width, size.Height);
        }
    }

    public void Kill()
    {
        lock (_gate)
        {
            if (!_reaped)
            {
                ProcessControl.KillGroup(_pid, Signals.SIGKILL);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await Exited;
        }
        finally
        {
            _stdio.Dispose();
            _pidFd.Dispose();
        }
    }
}
