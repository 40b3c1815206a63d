using System.Threading.Channels;
using NodeAgent.Cri;

namespace NodeAgent.Runtime.Events;

/// <summary>One subscriber's bounded queue (see <see cref="ContainerEventBroadcaster"/> for the overflow policy).</summary>
internal sealed class ContainerEventSubscription : IContainerEventSubscription
{
    private readonly Channel<ContainerEvent> _channel;
    private readonly Action<ContainerEventSubscription> _unsubscribe;
    private readonly object _gate = new();
    private bool _completed;

    public ContainerEventSubscription(int capacity, Action<ContainerEventSubscription> unsubscribe)
    {
        _channel = Channel.CreateBounded<ContainerEvent>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });
        _unsubscribe = unsubscribe;
    }

    public ChannelReader<ContainerEvent> Reader => _channel.Reader;

    /// <summary>Queues the event; when the queue is full, replaces everything queued by one Resync followed by this event.</summary>
    public void Offer(ContainerEvent e)
    {
        lock (_gate)
        {
            if (_completed || _channel.Writer.TryWrite(e))
            {
                return;
            }

            while (_channel.Reader.TryRead(out _))
            {
            }

            _channel.Writer.TryWrite(new ContainerEvent(ContainerEventType.Resync, string.Empty, string.Empty, e.At));
            _channel.Writer.TryWrite(e);
        }
    }

    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
            _channel.Writer.TryComplete();
        }
    }

    public void Dispose()
    {
        _unsubscribe(this);
        Complete();
    }
}
