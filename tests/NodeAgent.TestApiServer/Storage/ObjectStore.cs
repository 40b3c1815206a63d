using System.Globalization;
using System.Text.Json.Nodes;

namespace NodeAgent.TestApiServer.Storage;

/// <summary>
/// The in-memory store: every object of every type under one resourceVersion counter (as etcd's revision), a bounded
/// history of changes for watches (older versions answer 410, as after an etcd compaction), and the open watchers.
/// All writes run their decision under one lock, so read-check-write is atomic.
/// </summary>
public sealed class ObjectStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SortedDictionary<string, StoredObject>> _objects = new(StringComparer.Ordinal);
    private readonly LinkedList<(long Rv, string Key, string Type, StoredObject Obj, StoredObject? Prev)> _history = new();
    private readonly List<StoreWatcher> _watchers = [];
    private readonly int _historyLimit;
    private readonly int _watcherCapacity;
    private long _rv;
    private long _compacted;

    public ObjectStore(int historyLimit = 10000, int watcherCapacity = 10000)
    {
        _historyLimit = historyLimit;
        _watcherCapacity = watcherCapacity;
    }

    public long CurrentResourceVersion
    {
        get { lock (_lock) { return _rv; } }
    }

    private static string Id(string ns, string name) => ns.Length == 0 ? name : $"{ns}/{name}";

    public StoredObject? Get(string key, string ns, string name)
    {
        lock (_lock)
        {
            return _objects.TryGetValue(key, out var map) && map.TryGetValue(Id(ns, name), out var obj) ? obj : null;
        }
    }

    /// <summary>Every object of a type (in one namespace or all), filtered, in key order, with the list's resourceVersion.</summary>
    public (List<StoredObject> Items, long ResourceVersion) List(string key, string? ns, Func<JsonObject, bool> filter)
    {
        lock (_lock)
        {
            var items = new List<StoredObject>();
            if (_objects.TryGetValue(key, out var map))
            {
                foreach (var obj in map.Values)
                {
                    if ((ns is null || obj.Namespace == ns) && filter(obj.Node))
                    {
                        items.Add(obj);
                    }
                }
            }
            return (items, _rv);
        }
    }

    /// <summary>
    /// Runs <paramref name="decide"/> on a private copy of the current object (null when absent) under the lock and
    /// applies what it returns; a new object gets the next resourceVersion. Exceptions from decide leave the store unchanged.
    /// </summary>
    public StoredObject? Write(string key, string ns, string name, Func<JsonObject?, StoredObject?, StoreChange> decide)
    {
        lock (_lock)
        {
            if (!_objects.TryGetValue(key, out var map))
            {
                map = new SortedDictionary<string, StoredObject>(StringComparer.Ordinal);
                _objects[key] = map;
            }
            map.TryGetValue(Id(ns, name), out var current);
            var change = decide(current?.Node.DeepClone().AsObject(), current);
            switch (change)
            {
                case StoreChange.Put put:
                {
                    var rv = ++_rv;
                    var meta = put.Object["metadata"]!.AsObject();
                    meta["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
                    var stored = new StoredObject(ns, name, rv, put.Object);
                    map[Id(ns, name)] = stored;
                    Record(rv, key, current is null ? "ADDED" : "MODIFIED", stored, current);
                    return stored;
                }
                case StoreChange.Remove when current is not null:
                {
                    var rv = ++_rv;
                    map.Remove(Id(ns, name));
                    // The DELETED event carries the last state with the deletion's resourceVersion, as the real server sends it.
                    var last = current.Node.DeepClone().AsObject();
                    last["metadata"]!.AsObject()["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
                    var gone = new StoredObject(ns, name, rv, last);
                    Record(rv, key, "DELETED", gone, current);
                    return gone;
                }
                default:
                    return current;
            }
        }
    }

    /// <summary>
    /// Opens a watch. <paramref name="fromRv"/> null means "now, with the current objects as ADDED events"; otherwise
    /// every change after it is replayed first. Throws <see cref="StoreGoneException"/> when that history is gone.
    /// </summary>
    public StoreWatcher Watch(string key, string? ns, Func<JsonObject, bool> filter, long? fromRv)
    {
        lock (_lock)
        {
            var watcher = new StoreWatcher(this, key, ns, filter, _watcherCapacity);
            var w = watcher.Channel.Writer;
            if (fromRv is null)
            {
                if (_objects.TryGetValue(key, out var map))
                {
                    foreach (var obj in map.Values.Where(o => (ns is null || o.Namespace == ns) && filter(o.Node)))
                    {
                        if (!w.TryWrite(new WatchItem("ADDED", obj, obj.ResourceVersion)))
                        {
                            w.TryComplete();
                            return watcher;
                        }
                    }
                }
            }
            else
            {
                if (fromRv.Value < _compacted)
                {
                    throw new StoreGoneException(fromRv.Value, _compacted + 1);
                }
                foreach (var e in _history)
                {
                    if (e.Rv > fromRv.Value && e.Key == key && !Dispatch(watcher, e.Type, e.Obj, e.Prev))
                    {
                        return watcher;
                    }
                }
            }
            _watchers.Add(watcher);
            return watcher;
        }
    }

    /// <summary>Forgets the change history up to now (as an etcd compaction does): watches from older versions get 410.</summary>
    public void Compact()
    {
        lock (_lock)
        {
            _history.Clear();
            _compacted = _rv;
        }
    }

    /// <summary>Ends every open watch (as a restarting server drops them).</summary>
    public void CloseAllWatches()
    {
        lock (_lock)
        {
            foreach (var w in _watchers)
            {
                w.Channel.Writer.TryComplete();
            }
            _watchers.Clear();
        }
    }

    internal void Bookmark(StoreWatcher watcher)
    {
        lock (_lock)
        {
            watcher.Channel.Writer.TryWrite(new WatchItem("BOOKMARK", null, _rv));
        }
    }

    internal void Unwatch(StoreWatcher watcher)
    {
        lock (_lock)
        {
            _watchers.Remove(watcher);
            watcher.Channel.Writer.TryComplete();
        }
    }

    private void Record(long rv, string key, string type, StoredObject obj, StoredObject? prev)
    {
        _history.AddLast((rv, key, type, obj, prev));
        while (_history.Count > _historyLimit)
        {
            _compacted = _history.First!.Value.Rv;
            _history.RemoveFirst();
        }
        for (var i = _watchers.Count - 1; i >= 0; i--)
        {
            var watcher = _watchers[i];
            if (watcher.ResourceKey == key && !Dispatch(watcher, type, obj, prev))
            {
                _watchers.RemoveAt(i);
            }
        }
    }

    /// <summary>
    /// Sends one change to a watcher as its filter sees it: an object entering the filter is ADDED, one leaving it is
    /// DELETED (the real server's filtered watch). Returns false when the watcher was closed for being too slow.
    /// </summary>
    private bool Dispatch(StoreWatcher watcher, string type, StoredObject obj, StoredObject? prev)
    {
        if (watcher.Namespace is not null && watcher.Namespace != obj.Namespace)
        {
            return true;
        }
        string? sent;
        if (type == "DELETED")
        {
            sent = watcher.Filter(prev?.Node ?? obj.Node) ? "DELETED" : null;
        }
        else
        {
            var now = watcher.Filter(obj.Node);
            var before = prev is not null && watcher.Filter(prev.Node);
            sent = (before, now) switch
            {
                (true, true) => "MODIFIED",
                (false, true) => "ADDED",
                (true, false) => "DELETED",
                _ => null,
            };
        }
        if (sent is null)
        {
            return true;
        }
        if (watcher.Channel.Writer.TryWrite(new WatchItem(sent, obj, obj.ResourceVersion)))
        {
            return true;
        }
        // A watcher that does not keep up is closed, as the real server's cacher drops a slow watcher; it re-watches.
        Interlocked.Increment(ref _slowWatchersDropped);
        watcher.Channel.Writer.TryComplete();
        return false;
    }

    private long _slowWatchersDropped;

    /// <summary>How many watches were closed because their reader fell more than the watcher capacity behind.</summary>
    public long SlowWatchersDropped => Interlocked.Read(ref _slowWatchersDropped);
}
