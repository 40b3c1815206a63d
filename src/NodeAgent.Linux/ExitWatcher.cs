using System.Collections.Concurrent;
using Tmds.Linux;

namespace NodeAgent.Linux;

/// <summary>
/// Completes a task when a process exits, for any process (not only children), from one epoll loop over pidfds
/// on one dedicated thread. The kernel notifies; nothing polls.
/// </summary>
public sealed class ExitWatcher : IDisposable
{
    private readonly ConcurrentDictionary<long, Registration> _registrations = new();
    private readonly EpollThread _loop;
    private long _next = 1;

    public ExitWatcher()
    {
        _loop = new EpollThread("nodeagent-exit-watcher", 128 * 1024, id => Complete((long)id, cancelled: false), () => { });
    }

    /// <summary>Completes when the process behind <paramref name="pidFd"/> exits. The handle must stay open until then.</summary>
    public Task WaitAsync(PidFd pidFd, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_loop.Disposed, this);
        var id = Interlocked.Increment(ref _next);
        var reg = new Registration(pidFd, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _registrations[id] = reg;
        var added = false;
        pidFd.DangerousAddRef(ref added);
        reg.Referenced = added;
        _loop.Add((int)pidFd.DangerousGetHandle(), (ulong)id, LibC.EPOLLIN);
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() => Complete(id, cancelled: true));
        }

        return reg.Completion.Task;
    }

    private void Complete(long id, bool cancelled)
    {
        if (!_registrations.TryRemove(id, out var reg))
        {
            return;
        }

        _loop.Remove((int)reg.Handle.DangerousGetHandle());
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

    public void Dispose()
    {
        if (_loop.Disposed)
        {
            return;
        }

        _loop.Dispose();
        foreach (var id in _registrations.Keys)
        {
            Complete(id, cancelled: true);
        }
    }

    private sealed class Registration(PidFd handle, TaskCompletionSource completion)
    {
        public PidFd Handle { get; } = handle;

        public TaskCompletionSource Completion { get; } = completion;

        public bool Referenced { get; set; }
    }
}
