using k8s;
using k8s.Models;

namespace NodeAgent.Kube.Informers;

/// <summary>
/// The informer's local store (client-go's thread-safe store with indexers): objects by "namespace/name", plus one
/// inverted index per indexer. Readers get the cached instances: do not modify them.
/// </summary>
public sealed class InformerCache<T> where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, T> _items = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<T, IEnumerable<string>>> _indexers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, HashSet<string>>> _indices = new(StringComparer.Ordinal);

    public static string KeyOf(T obj) =>
        obj.Metadata?.NamespaceProperty is { Length: > 0 } ns ? $"{ns}/{obj.Metadata.Name}" : obj.Metadata?.Name ?? "";

    public int Count
    {
        get { lock (_lock) { return _items.Count; } }
    }

    /// <summary>Adds an index; only before the informer starts.</summary>
    internal void AddIndexer(string name, Func<T, IEnumerable<string>> index)
    {
        lock (_lock)
        {
            if (_items.Count > 0)
            {
                throw new InvalidOperationException($"indexer {name} added after objects were cached");
            }
            _indexers.Add(name, index);
            _indices[name] = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        }
    }

    public T? Get(string? ns, string name)
    {
        lock (_lock)
        {
            return _items.GetValueOrDefault(string.IsNullOrEmpty(ns) ? name : $"{ns}/{name}");
        }
    }

    public IReadOnlyList<T> List()
    {
        lock (_lock)
        {
            return [.. _items.Values];
        }
    }

    /// <summary>The objects whose index function returned <paramref name="value"/>.</summary>
    public IReadOnlyList<T> ByIndex(string indexName, string value)
    {
        lock (_lock)
        {
            if (!_indices.TryGetValue(indexName, out var index))
            {
                throw new ArgumentException($"no indexer named {indexName}", nameof(indexName));
            }
            return index.TryGetValue(value, out var keys) ? [.. keys.Select(k => _items[k])] : [];
        }
    }

    /// <summary>Stores <paramref name="obj"/>; returns the previous version (null when new).</summary>
    internal T? Upsert(T obj)
    {
        var key = KeyOf(obj);
        lock (_lock)
        {
            _items.TryGetValue(key, out var old);
            if (old is not null)
            {
                Unindex(key, old);
            }
            _items[key] = obj;
            Index(key, obj);
            return old;
        }
    }

    internal T? Remove(string key)
    {
        lock (_lock)
        {
            if (!_items.Remove(key, out var old))
            {
                return null;
            }
            Unindex(key, old);
            return old;
        }
    }

    internal IReadOnlyList<string> Keys()
    {
        lock (_lock)
        {
            return [.. _items.Keys];
        }
    }

    private void Index(string key, T obj)
    {
        foreach (var (name, fn) in _indexers)
        {
            foreach (var value in fn(obj))
            {
                var index = _indices[name];
                if (!index.TryGetValue(value, out var keys))
                {
                    keys = new HashSet<string>(StringComparer.Ordinal);
                    index[value] = keys;
                }
                keys.Add(key);
            }
        }
    }

    private void Unindex(string key, T obj)
    {
        foreach (var (name, fn) in _indexers)
        {
            foreach (var value in fn(obj))
            {
                var index = _indices[name];
                if (index.TryGetValue(value, out var keys) && keys.Remove(key) && keys.Count == 0)
                {
                    index.Remove(value);
                }
            }
        }
    }
}
