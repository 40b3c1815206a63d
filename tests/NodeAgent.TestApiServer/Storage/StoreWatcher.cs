using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace NodeAgent.TestApiServer.Storage;

/// <summary>One open watch: its filter and the channel its events go to. A watcher that falls too far behind is closed, as the real server closes slow watchers.</summary>
public sealed class StoreWatcher : IDisposable
{
    private readonly ObjectStore _store;

    internal StoreWatcher(ObjectStore store, string resourceKey, string? ns, Func<JsonObject, bool> filter, int capacity)
    {
        _store = store;
        ResourceKey = resourceKey;
        Namespace = ns;
        Filter = filter;
        Channel = System.Threading.Channels.Channel.CreateBounded<WatchItem>(new BoundedChannelOptions(capacity) { SingleReader = true });
    }

    internal string ResourceKey { get; }
    internal string? Namespace { get; }
    internal Func<JsonObject, bool> Filter { get; }
    internal Channel<WatchItem> Channel { get; }

    public ChannelReader<WatchItem> Events => Channel.Reader;

    /// <summary>Queues a bookmark at the store's current resourceVersion, behind every event already queued.</summary>
    public void RequestBookmark() => _store.Bookmark(this);

    public void Dispose() => _store.Unwatch(this);
}
