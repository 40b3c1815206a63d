using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace NodeAgent.Linux;

/// <summary>
/// Completes a task when a process exits, for any process (not only children), from one epoll loop over pidfds
/// on one dedicated thread. The kernel notifies; nothing polls.
/// </summary>
public sealed class ExitWatcher : IDisposable
{
    private readonly int _epoll;
    private readonly int _wake;
    private readonly ConcurrentDictionary<long, Registration> _registrations = new();
    private readonly Thread _thread;
    private long _next = 1;
    private volatile bool _disposed;

    public ExitWatcher()
    {
        _epoll = LinuxException.ThrowIfError(LibC.epoll_create1(LibC.EPOLL_CLOEXEC), "epoll_create1");
        _wake = LinuxException.ThrowIfError(LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK), "eventfd");
        Add(_wake, 0);
        _thread = new Thread(Loop, 128 * 1024) { IsBackground = true, Name = "nodeagent-exit-watcher" };
        _thread.Start();
    }

    /// <summary>Completes when the process behind <paramref name="pidFd"/> exits. The handle must stay open until then.</summary>
    public Task WaitAsync(PidFd pidFd, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var id = Interlocked.Increment(ref _next);
        var reg = new Registration(pidFd, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _registrations[id] = reg;
        var added = false;
        pidFd.DangerousAddRef(ref added);
        reg.Referenced = added;
        Add((int)pidFd.DangerousGetHandle(), id);
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() => Complete(id, cancelled: true));
        }

        return reg.Completion.Task;
    }

    private unsafe void Add(int fd, long id)
    {
        var ev = new epoll_event { events = LibC.EPOLLIN };
        ev.data.u64 = (ulong)id;
        LinuxException.ThrowIfError(LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_ADD, fd, &ev), "epoll_ctl add", fd.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private unsafe void Complete(long id, bool cancelled)
    {
        if (!_registrations.TryRemove(id, out var reg))
        {
            return;
        }

        LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_DEL, (int)reg.Handle.DangerousGetHandle(), null);
        if (reg.Referenced)
        {
            reg.Handle.DangerousRelease();
        }

        if (cancelled)
        {
            reg.Completion.TrySetCanceled();
        }
        else
        {
            reg.Completion.TrySetResult();
        }
    }

    private unsafe void Loop()
    {
        const int max = 64;
        var events = stackalloc epoll_event[max];
        while (!_disposed)
        {
            var n = LibC.epoll_wait(_epoll, events, max, -1);
            if (n < 0)
            {
                if (Marshal.GetLastPInvokeError() == ErrnoNames.EINTR)
                {
                    continue;
                }

                break;
            }

            for (var i = 0; i < n; i++)
            {
                var id = (long)events[i].data.u64;
                if (id != 0)
                {
                    Complete(id, cancelled: false);
                }
            }
        }
    }

    public unsafe void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        ulong one = 1;
        LibC.write(_wake, &one, 8);
        _thread.Join();
        foreach (var id in _registrations.Keys)
        {
            Complete(id, cancelled: true);
        }

        LibC.close(_wake);
        LibC.close(_epoll);
    }

    private sealed class Registration(PidFd handle, TaskCompletionSource completion)
    {
        public PidFd Handle { get; } = handle;

        public TaskCompletionSource Completion { get; } = completion;

        public bool Referenced { get; set; }
    }
}
