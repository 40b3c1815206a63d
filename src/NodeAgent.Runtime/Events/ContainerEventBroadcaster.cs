using NodeAgent.Cri;

namespace NodeAgent.Runtime.Events;

/// <summary>
/// Fans the runtime's events out to any number of subscribers, each with its own bounded queue. Publishing never
/// waits: a subscriber whose queue is full loses its queued events and gets one <see cref="ContainerEventType.Resync"/>
/// instead, followed by the new event (it must relist), so a stalled subscriber holds up neither the exit tracker nor the other subscribers.
/// </summary>
public sealed class ContainerEventBroadcaster : IDisposable
{
    /// <summary>Events a subscriber may have queued before it is told to resync.</summary>
    public const int DefaultCapacity = 1024;

    private readonly int _capacity;
    private readonly object _gate = new();
    private volatile ContainerEventSubscription[] _subscribers = [];
    private bool _disposed;

    public ContainerEventBroadcaster(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    public IContainerEventSubscription Subscribe()
    {
        var subscription = new ContainerEventSubscription(_capacity, Unsubscribe);
        lock (_gate)
        {
            if (_disposed)
            {
                subscription.Complete();
            }
            else
            {
                _subscribers = [.. _subscribers, subscription];
            }
        }

        return subscription;
    }

    public void Publish(ContainerEvent e)
    {
        foreach (var subscriber in _subscribers)
        {
            subscriber.Offer(e);
        }
    }

    private void Unsubscribe(ContainerEventSubscription subscription)
    {
        lock (_gate)
        {
            _subscribers = Array.FindAll(_subscribers, s => s != subscription);
        }
    }

    /// <summary>Ends every subscriber's stream.</summary>
    public void Dispose()
    {
        ContainerEventSubscription[] subscribers;
        lock (_gate)
        {
            _disposed = true;
            subscribers = _subscribers;
            _subscribers = [];
        }

        foreach (var subscriber in subscribers)
        {
            subscriber.Complete();
        }
    }
}
