using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// A writer's channel of status changes from <see cref="PodStatusManager.Subscribe"/>, read at the writer's own
/// pace. Changes of one pod coalesce while unread: the reader always gets the newest version of each pod (or its
/// removal), so a slow writer never sees an old status after a newer one and holds at most one change per pod.
/// Pods are delivered in the order they first changed since the last read. Dispose to stop receiving.
/// </summary>
public sealed class PodStatusSubscription : ChannelReader<PodStatusChange>, IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, PodStatusChange> _pending = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Action<PodStatusSubscription> _unsubscribe;
    private TaskCompletionSource<bool>? _waiter;
    private bool _completed;

    internal PodStatusSubscription(Action<PodStatusSubscription> unsubscribe) => _unsubscribe = unsubscribe;

    public override bool CanCount => true;

    /// <summary>Pods with an unread change.</summary>
    public override int Count
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    public override bool TryRead([MaybeNullWhen(false)] out PodStatusChange item)
    {
        lock (_lock)
        {
            while (_order.TryDequeue(out var uid))
            {
                if (_pending.Remove(uid, out item))
                {
                    return true;
                }
            }
        }

        item = null;
        return false;
    }

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        TaskCompletionSource<bool> waiter;
        lock (_lock)
        {
            if (_pending.Count > 0)
            {
                return ValueTask.FromResult(true);
            }

            if (_completed)
            {
                return ValueTask.FromResult(false);
            }

            waiter = _waiter ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        return new ValueTask<bool>(waiter.Task.WaitAsync(cancellationToken));
    }

    /// <summary>Reads until cancelled or disposed: each change goes to <paramref name="onChange"/>, and
    /// <paramref name="afterBatch"/> runs once after the changes that were waiting have been handed over.</summary>
    public async Task ForEachAsync(Action<PodStatusChange> onChange, Action afterBatch, CancellationToken cancellationToken)
    {
        try
        {
            while (await WaitToReadAsync(cancellationToken))
            {
                while (TryRead(out var change))
                {
                    onChange(change);
                }

                afterBatch();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Called by the manager (under its lock, so in version order).</summary>
    internal void Publish(PodStatusChange change)
    {
        TaskCompletionSource<bool>? waiter;
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            if (!_pending.ContainsKey(change.Uid))
            {
                _order.Enqueue(change.Uid);
            }

            _pending[change.Uid] = change;
            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult(true);
    }

    public void Dispose()
    {
        TaskCompletionSource<bool>? waiter;
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            _pending.Clear();
            _order.Clear();
            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult(false);
        _unsubscribe(this);
    }
}
