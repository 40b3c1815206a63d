using System.Threading.Channels;

namespace NodeAgent.Cri;

/// <summary>
/// One subscriber's stream of runtime events, with its own bounded queue: a slow subscriber never holds up the
/// runtime or other subscribers. When its queue overflows, the queued events are dropped and replaced by one
/// <see cref="ContainerEventType.Resync"/> event: the subscriber must relist. Dispose to unsubscribe.
/// </summary>
public interface IContainerEventSubscription : IDisposable
{
    ChannelReader<ContainerEvent> Reader { get; }
}
