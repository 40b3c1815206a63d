namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// kubelet's crash-loop backoff per container: 10 s after the first failure, doubling to 300 s, forgotten after
/// ten minutes without a restart.
/// </summary>
public sealed class ContainerBackoff(TimeProvider time)
{
    public static readonly TimeSpan Initial = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan Max = TimeSpan.FromSeconds(300);
    public static readonly TimeSpan Reset = TimeSpan.FromMinutes(10);

    private readonly Dictionary<string, Entry> _entries = [];
    private readonly Lock _lock = new();

    public static string Key(string podUid, string container) => podUid + "/" + container;

    /// <summary>True while the container must not be restarted; <paramref name="remaining"/> says for how long.</summary>
    public bool IsInBackoff(string key, DateTimeOffset lastExit, out TimeSpan remaining)
    {
        lock (_lock)
        {
            remaining = TimeSpan.Zero;
            if (!_entries.TryGetValue(key, out var entry))
            {
                return false;
            }

            var until = lastExit + entry.Delay;
            remaining = until - time.GetUtcNow();
            return remaining > TimeSpan.Zero;
        }
    }

    /// <summary>flowcontrol's IsInBackOffSinceUpdate: true while less than the current delay has passed since the
    /// last <see cref="Next"/> (image pulls back off this way, per pod and image).</summary>
    public bool IsInBackoffSinceUpdate(string key, out TimeSpan remaining)
    {
        lock (_lock)
        {
            remaining = TimeSpan.Zero;
            if (!_entries.TryGetValue(key, out var entry))
            {
                return false;
            }

            remaining = entry.LastUpdate + entry.Delay - time.GetUtcNow();
            return remaining > TimeSpan.Zero;
        }
    }

    /// <summary>Records a restart and returns the delay the next restart must wait.</summary>
    public TimeSpan Next(string key)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (!_entries.TryGetValue(key, out var entry) || now - entry.LastUpdate > Reset)
            {
                entry = new Entry(Initial, now);
            }
            else
            {
                var doubled = entry.Delay * 2;
                entry = new Entry(doubled > Max ? Max : doubled, now);
            }

            _entries[key] = entry;
            return entry.Delay;
        }
    }

    /// <summary>Current delay for the key (zero when none).</summary>
    public TimeSpan Current(string key)
    {
        lock (_lock)
        {
            return _entries.TryGetValue(key, out var e) && time.GetUtcNow() - e.LastUpdate <= Reset ? e.Delay : TimeSpan.Zero;
        }
    }

    /// <summary>Keys with a backoff (for tests of churn: zero once every pod is forgotten).</summary>
    internal int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    public void Forget(string podUid)
    {
        lock (_lock)
        {
            foreach (var key in _entries.Keys.Where(k => k.StartsWith(podUid + "/", StringComparison.Ordinal)).ToList())
            {
                _entries.Remove(key);
            }
        }
    }

    private readonly record struct Entry(TimeSpan Delay, DateTimeOffset LastUpdate);
}
