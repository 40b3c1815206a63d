using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;
using NodeAgent.ContainerSpec;
using NodeAgent.Cri;
using NodeAgent.Linux;

namespace NodeAgent.Runtime.Exec;

/// <summary>
/// The runtime's side of one container's exec server (<c>nodeagent-shim exec-server</c>): a SOCK_SEQPACKET socket
/// over which commands are started (their stdio pipes passed with SCM_RIGHTS), killed and reported. Replies are
/// read on .NET's socket engine (no thread per server) and trusted no further than the container: an unknown id, a
/// malformed reply or an oversized one ends the connection and kills the server. When the connection ends, a
/// command not yet started makes its caller fall back to a one-shot exec; a running one's exit is unknown
/// (<see cref="RuntimeException"/> from <see cref="IExecSession.Exited"/>).
/// </summary>
internal sealed class ExecServerConnection : IAsyncDisposable
{
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(5);

    private readonly string _name;
    private readonly int _pid;
    private readonly PidFd _pidFd;
    private readonly Socket _socket;
    private readonly object _gate = new();
    private readonly Dictionary<int, ServedExecSession> _sessions = [];
    private readonly Task _reaped;
    private int _nextId;
    private bool _closed;

    public ExecServerConnection(string name, int pid, PidFd pidFd, SafeFileHandle socket, ExitWatcher exits)
    {
        _name = name;
        _pid = pid;
        _pidFd = pidFd;
        var raw = socket.DangerousGetHandle();
        socket.SetHandleAsInvalid();
        _socket = new Socket(new SafeSocketHandle(raw, ownsHandle: true));
        _reaped = ReapAsync(exits);
        _ = ReadAsync();
    }

    /// <summary>The server's PID (host PID namespace).</summary>
    public int Pid => _pid;

    public bool IsClosed
    {
        get
        {
            lock (_gate)
            {
                return _closed;
            }
        }
    }

    /// <summary>The exec's spec as a helper reads it: with a tty, <c>TERM=xterm</c> unless the request names a TERM (as containerd's exec does).</summary>
    public static ExecSpec SpecOf(ExecRequest request)
    {
        var env = new List<string>(request.Env);
        if (request.Tty && !env.Any(e => e.StartsWith("TERM=", StringComparison.Ordinal)))
        {
            env.Add("TERM=xterm");
        }

        return new ExecSpec
        {
            Args = [.. request.Command],
            Env = env,
            Tty = request.Tty,
            Columns = request.InitialSize?.Width ?? 0,
            Rows = request.InitialSize?.Height ?? 0,
        };
    }

    /// <summary>
    /// Starts a command (no tty) through the server. Null when the server is gone or the request does not fit a
    /// message: the caller then uses a one-shot helper. A command that cannot start is a <see cref="RuntimeException"/>
    /// with the text a one-shot helper would give.
    /// </summary>
    public async Task<IExecSession?> TryStartAsync(ExecRequest request, CancellationToken cancellationToken)
    {
        ServedExecSession session;
        byte[] message;
        var stdio = ExecStdio.Create(request);
        lock (_gate)
        {
            var id = ++_nextId;
            message = ExecServerMessages.Start(id, SpecOf(request), request.Stdin);
            if (_closed || message.Length > ExecServerMessages.MaxMessageBytes)
            {
                stdio.Dispose();
                return null;
            }

            session = new ServedExecSession(this, id, stdio);
            _sessions[id] = session;
        }

        try
        {
            PacketSockets.Send(_socket.SafeHandle, message, stdio.ChildEndsForServer(), SendTimeout);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            Close(kill: true);
            stdio.Dispose();
            return null;
        }
        finally
        {
            stdio.CloseChildEnds();
        }

        var (started, reason, code) = await session.Started;
        if (!started)
        {
            stdio.Dispose();
            if (reason is null)
            {
                return null; // the server went away before it answered
            }

            throw new RuntimeException(RuntimeErrorKind.StartError, $"exec in container {_name}: {reason.Trim()} (exit code {code})");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            await session.DisposeAsync();
            cancellationToken.ThrowIfCancellationRequested();
        }

        return session;
    }

    internal void Kill(int id)
    {
        try
        {
            PacketSockets.Send(_socket.SafeHandle, ExecServerMessages.Kill(id), [], SendTimeout);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            Close(kill: true);
        }
    }

    internal RuntimeException Lost() =>
        new(RuntimeErrorKind.Io, $"exec in container {_name}: the container's exec server ended before the command (the container stopped, or its exec server was killed); its exit code is unknown");

    private async Task ReadAsync()
    {
        var buffer = new byte[ExecServerMessages.MaxMessageBytes + 1];
        var kill = false;
        try
        {
            while (true)
            {
                var n = await _socket.ReceiveAsync(buffer, SocketFlags.None);
                if (n == 0)
                {
                    break;
                }

                if (n > ExecServerMessages.MaxMessageBytes || !ExecServerMessages.TryParseReply(buffer.AsSpan(0, n), out var kind, out var id, out var value, out var reason) || !Dispatch(kind, id, value, reason))
                {
                    kill = true; // not what a server of ours says: trust it no further
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Closed.
        }

        Close(kill);
    }

    private bool Dispatch(ExecServerReplyKind kind, int id, int value, string reason)
    {
        ServedExecSession? session;
        lock (_gate)
        {
            if (!_sessions.TryGetValue(id, out session))
            {
                return false;
            }

            if (kind != ExecServerReplyKind.Started)
            {
                _sessions.Remove(id);
            }
        }

        var valid = kind switch
        {
            ExecServerReplyKind.Started => session.OnStarted(),
            ExecServerReplyKind.Failed => session.OnFailed(reason.Length == 0 ? "exec failed" : reason, value),
            _ => session.OnExited(value),
        };
        if (!valid)
        {
            session.OnServerGone(); // it may already be out of the table that Close empties
        }

        return valid;
    }

    private async Task ReapAsync(ExitWatcher exits)
    {
        try
        {
            await exits.WaitAsync(_pidFd);
            ProcessSpawner.WaitForExit(_pid);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The runtime is shutting down: the server sees its socket close and exits.
        }

        Close(kill: false);
    }

    private void Close(bool kill)
    {
        List<ServedExecSession> orphans;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            orphans = [.. _sessions.Values];
            _sessions.Clear();
        }

        if (kill && !_reaped.IsCompleted)
        {
            _pidFd.Signal(9);
        }

        _socket.Dispose();
        foreach (var session in orphans)
        {
            session.OnServerGone();
        }
    }

    /// <summary>Closes the socket (the server then kills its running commands and exits) and waits until it has been reaped.</summary>
    public async ValueTask DisposeAsync()
    {
        Close(kill: false);
        if (await Task.WhenAny(_reaped, Task.Delay(TimeSpan.FromSeconds(2))) != _reaped)
        {
            _pidFd.Signal(9); // stopped, or not reading: it holds nothing worth waiting for
        }

        await _reaped;
        _pidFd.Dispose();
    }
}
