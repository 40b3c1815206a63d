using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using NodeAgent.Linux.Interop;
using Tmds.Linux;

namespace NodeAgent.Linux;

/// <summary>
/// Forwards TCP connections both ways inside the kernel: <c>splice(2)</c> from one socket into a pipe and from the
/// pipe into the other socket, one pipe per direction, so the bytes never pass through user space. One epoll loop on
/// one dedicated thread serves every connection (edge-triggered; the kernel says when a socket can be read or
/// written; nothing polls). Nothing is allocated per transfer: a connection costs its two pipes and one state object
/// when it starts. An end of stream is passed on as a half-close (<c>shutdown(SHUT_WR)</c>); a reset or any other
/// error on either side ends the bridge (the caller then closes both sockets).
/// </summary>
public sealed class SplicePump : IDisposable
{
    /// <summary>The pipe size asked for (fewer system calls per byte than the 64 KiB default); the kernel may give
    /// less (<c>/proc/sys/fs/pipe-max-size</c>), which is then used.</summary>
    public const int PipeSize = 256 * 1024;

    private const uint SpliceMove = 1, SpliceNonblock = 2;
    private const int FSetPipeSize = 1031, FGetPipeSize = 1032;

    private readonly ConcurrentDictionary<long, Bridge> _bridges = new();
    private readonly ConcurrentQueue<long> _cancelled = new();
    private readonly EpollThread _loop;
    private long _next;

    public SplicePump()
    {
        _loop = new EpollThread("nodeagent-splice", 256 * 1024, id => Pump((long)id), () =>
        {
            while (_cancelled.TryDequeue(out var gone))
            {
                Complete(gone, false);
            }
        });
    }

    /// <summary>
    /// Forwards between two connected TCP sockets until both directions ended (true) or one failed (false). The
    /// sockets are made non-blocking; they must not be read or written by anyone else meanwhile. Cancelling ends the
    /// bridge (false). The handles are kept alive (not closed under the pump) until the task completes.
    /// </summary>
    public Task<bool> BridgeAsync(SafeHandle a, SafeHandle b, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_loop.Disposed, this);
        var id = Interlocked.Increment(ref _next);
        var bridge = new Bridge(a, b);
        try
        {
            bridge.Open();
        }
        catch
        {
            bridge.Close();
            throw;
        }
        _bridges[id] = bridge;
        try
        {
            // Edge-triggered: an event comes when something changed; each pump goes until the kernel says EAGAIN.
            var events = LibC.EPOLLIN | LibC.EPOLLOUT | LibC.EPOLLRDHUP | LibC.EPOLLET;
            _loop.Add(bridge.A.Socket, (ulong)id, events);
            _loop.Add(bridge.B.Socket, (ulong)id, events);
        }
        catch
        {
            Complete(id, false);
            throw;
        }
        if (cancellationToken.CanBeCanceled)
        {
            bridge.Cancellation = cancellationToken.UnsafeRegister(static (state, _) =>
            {
                var (pump, id) = ((SplicePump, long))state!;
                pump.Cancel(id);
            }, (this, id));
        }
        return bridge.Completion.Task;
    }

    private void Cancel(long id)
    {
        _cancelled.Enqueue(id);
        _loop.Wake();
    }

    private void Complete(long id, bool ok)
    {
        if (!_bridges.TryRemove(id, out var bridge))
        {
            return;
        }
        lock (bridge)
        {
            _loop.Remove(bridge.A.Socket);
            _loop.Remove(bridge.B.Socket);
            bridge.Close();
        }
        bridge.Completion.TrySetResult(ok);
    }

    /// <summary>On the loop thread: an event on one of a bridge's sockets; moves what can be moved.</summary>
    private void Pump(long id)
    {
        if (!_bridges.TryGetValue(id, out var bridge))
        {
            return;
        }
        Progress state;
        lock (bridge)
        {
            state = bridge.Closed ? Progress.Open : bridge.Pump();
        }
        if (state != Progress.Open)
        {
            Complete(id, state == Progress.Done);
        }
    }

    public void Dispose()
    {
        if (_loop.Disposed)
        {
            return;
        }
        _loop.Dispose();
        foreach (var id in _bridges.Keys)
        {
            Complete(id, false);
        }
    }

    private enum Progress
    {
        Open,
        Done,
        Failed,
    }

    /// <summary>One connection: two sockets, a pipe per direction.</summary>
    private sealed class Bridge(SafeHandle a, SafeHandle b)
    {
        private bool _refA, _refB;

        public Side A { get; } = new();

        public Side B { get; } = new();

        public TaskCompletionSource<bool> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Cancellation { get; set; }

        public bool Closed { get; private set; }

        public void Open()
        {
            a.DangerousAddRef(ref _refA);
            b.DangerousAddRef(ref _refB);
            A.Socket = (int)a.DangerousGetHandle();
            B.Socket = (int)b.DangerousGetHandle();
            foreach (var side in new[] { A, B })
            {
                var flags = LinuxException.ThrowIfError(LibC.fcntl(side.Socket, LibC.F_GETFL, 0), "fcntl F_GETFL");
                LinuxException.ThrowIfError(LibC.fcntl(side.Socket, LibC.F_SETFL, flags | LibC.O_NONBLOCK), "fcntl F_SETFL");
                side.OpenPipe();
            }
        }

        /// <summary>Moves what can be moved both ways, until the kernel has nothing more for now.</summary>
        public Progress Pump()
        {
            var ab = Move(A, B);
            var ba = Move(B, A);
            if (ab == Progress.Failed || ba == Progress.Failed)
            {
                return Progress.Failed;
            }
            return ab == Progress.Done && ba == Progress.Done ? Progress.Done : Progress.Open;
        }

        /// <summary>From <paramref name="from"/>'s socket through its pipe into <paramref name="to"/>'s socket.</summary>
        private static unsafe Progress Move(Side from, Side to)
        {
            if (from.Finished)
            {
                return Progress.Done;
            }
            while (true)
            {
                var moved = false;
                if (!from.Ended && from.InPipe < from.PipeCapacity)
                {
                    var n = Libc.Splice(from.Socket, null, from.PipeWrite, null, (nuint)(from.PipeCapacity - from.InPipe), SpliceMove | SpliceNonblock);
                    if (n > 0)
                    {
                        from.InPipe += (int)n;
                        moved = true;
                    }
                    else if (n == 0)
                    {
                        from.Ended = true;
                    }
                    else if (Marshal.GetLastPInvokeError() is not (ErrnoNames.EAGAIN or ErrnoNames.EINTR))
                    {
                        return Progress.Failed;
                    }
                }
                if (from.InPipe > 0)
                {
                    var n = Libc.Splice(from.PipeRead, null, to.Socket, null, (nuint)from.InPipe, SpliceMove | SpliceNonblock);
                    if (n > 0)
                    {
                        from.InPipe -= (int)n;
                        moved = true;
                    }
                    else if (n < 0 && Marshal.GetLastPInvokeError() is not (ErrnoNames.EAGAIN or ErrnoNames.EINTR))
                    {
                        return Progress.Failed;
                    }
                }
                if (from.Ended && from.InPipe == 0)
                {
                    // The half-close passed on; a peer already gone shows up as an error on the other direction.
                    LibC.shutdown(to.Socket, LibC.SHUT_WR);
                    from.Finished = true;
                    return Progress.Done;
                }
                if (!moved)
                {
                    return Progress.Open;
                }
            }
        }

        public void Close()
        {
            Closed = true;
            Cancellation.Dispose();
            A.ClosePipe();
            B.ClosePipe();
            if (_refA)
            {
                a.DangerousRelease();
                _refA = false;
            }
            if (_refB)
            {
                b.DangerousRelease();
                _refB = false;
            }
        }
    }

    /// <summary>One socket of a bridge, with the pipe that carries what it receives.</summary>
    private sealed class Side
    {
        public int Socket { get; set; } = -1;

        private SafeFileHandle? _read, _write;

        public int PipeRead { get; private set; } = -1;

        public int PipeWrite { get; private set; } = -1;

        public int PipeCapacity { get; private set; }

        /// <summary>Bytes received from this socket and not yet sent on.</summary>
        public int InPipe { get; set; }

        /// <summary>This socket's stream ended (nothing more to receive).</summary>
        public bool Ended { get; set; }

        /// <summary>Ended and everything passed on, with the half-close.</summary>
        public bool Finished { get; set; }

        public unsafe void OpenPipe()
        {
            var fds = stackalloc int[2];
            LinuxException.ThrowIfError(LibC.pipe2(fds, LibC.O_CLOEXEC | LibC.O_NONBLOCK), "pipe2");
            (_read, _write) = (new SafeFileHandle(fds[0], ownsHandle: true), new SafeFileHandle(fds[1], ownsHandle: true));
            (PipeRead, PipeWrite) = (fds[0], fds[1]);
            // A larger pipe is an optimisation only: the size the kernel grants is what counts.
            LibC.fcntl(PipeWrite, FSetPipeSize, PipeSize);
            PipeCapacity = LinuxException.ThrowIfError(LibC.fcntl(PipeWrite, FGetPipeSize, 0), "fcntl F_GETPIPE_SZ");
        }

        public void ClosePipe()
        {
            _read?.Dispose();
            _write?.Dispose();
            (PipeRead, PipeWrite) = (-1, -1);
        }
    }
}
