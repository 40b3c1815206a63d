using System.Collections.Concurrent;

namespace NodeAgent.Server.Auth;

/// <summary>
/// Answers kept for a time (TokenReview and SubjectAccessReview results, with kubelet's TTLs), on an injected
/// <see cref="TimeProvider"/>. Bounded: keys come from requests (hostile), so past <paramref name="capacity"/>
/// entries the expired ones are dropped, and if that is not enough, all of them.
/// </summary>
public sealed class ExpiringCache<TKey, TValue>(TimeProvider time, int capacity = 4096)
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, (TValue Value, DateTimeOffset Expires)> _entries = new();

    public int Count => _entries.Count;

    public bool TryGet(TKey key, out TValue value)
    {
        if (_entries.TryGetValue(key, out var entry) && entry.Expires > time.GetUtcNow())
        {
            value = entry.Value;
            return true;
        }

        value = default!;
        return false;
    }

    public void Set(TKey key, TValue value, TimeSpan ttl)
    {
        if (ttl <= TimeSpan.Zero)
        {
            return;
        }

        if (_entries.Count >= capacity)
        {
            var now = time.GetUtcNow();
            foreach (var kv in _entries)
            {
                if (kv.Value.Expires <= now)
                {
                    _entries.TryRemove(kv.Key, out _);
                }
            }

            if (_entries.Count >= capacity)
            {
                _entries.Clear();
            }
        }

        _entries[key] = (value, time.GetUtcNow() + ttl);
    }
}
