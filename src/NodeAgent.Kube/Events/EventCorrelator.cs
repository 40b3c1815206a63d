using k8s.Models;

namespace NodeAgent.Kube.Events;

/// <summary>
/// client-go's EventCorrelator (tools/record/events_cache.go), decided without I/O: a spam filter (a token bucket per
/// source and object: burst 25, one token per 5 minutes), an aggregator (from the 10th event differing only in
/// message for one object and reason within 10 minutes on, they become one "(combined from similar events): …" event), and a
/// deduplicating logger (a repeat becomes a count and lastTimestamp update of the first event).
/// </summary>
public sealed class EventCorrelator(TimeProvider time)
{
    public const int SpamBurst = 25;
    public static readonly TimeSpan SpamRefill = TimeSpan.FromMinutes(5);
    public const int AggregateThreshold = 10;
    public static readonly TimeSpan AggregateWindow = TimeSpan.FromMinutes(10);
    private const int MaxEntries = 4096;

    private readonly Dictionary<string, (double Tokens, DateTimeOffset Last)> _spam = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (HashSet<string> Messages, DateTimeOffset Last)> _aggregate = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Name, int Count, DateTimeOffset First)> _seen = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>What to do with an event: drop it, create it, or update (patch) the earlier one named.</summary>
    public sealed record Decision(bool Drop, Corev1Event Event, string? ExistingName);

    public Decision Correlate(Corev1Event e)
    {
        // metav1.Time carries whole seconds; keep first and last comparable with what the server stores.
        var exact = time.GetUtcNow();
        var now = exact.AddTicks(-(exact.Ticks % TimeSpan.TicksPerSecond));
        lock (_lock)
        {
            var source = $"{e.Source?.Component}\u0000{e.Source?.Host}";
            var obj = e.InvolvedObject;
            var objectKey = $"{source}\u0000{obj.Kind}\u0000{obj.NamespaceProperty}\u0000{obj.Name}\u0000{obj.Uid}\u0000{obj.ApiVersion}";
            if (!AllowSpam(objectKey, now))
            {
                return new Decision(true, e, null);
            }
            var aggregateKey = $"{objectKey}\u0000{e.Type}\u0000{e.Reason}\u0000{obj.FieldPath}";
            var message = e.Message ?? "";
            if (!_aggregate.TryGetValue(aggregateKey, out var agg) || now - agg.Last > AggregateWindow)
            {
                agg = (new HashSet<string>(StringComparer.Ordinal), now);
            }
            agg.Messages.Add(message);
            agg.Last = now;
            Bound(_aggregate);
            _aggregate[aggregateKey] = agg;
            var dedupKey = $"{aggregateKey}\u0000{message}";
            if (agg.Messages.Count >= AggregateThreshold)
            {
                e.Message = "(combined from similar events): " + message;
                dedupKey = aggregateKey + "\u0000(aggregate)";
            }
            e.LastTimestamp = now.UtcDateTime;
            if (_seen.TryGetValue(dedupKey, out var seen))
            {
                seen.Count++;
                _seen[dedupKey] = seen;
                e.Count = seen.Count;
                e.FirstTimestamp = seen.First.UtcDateTime;
                e.Metadata.Name = seen.Name;
                return new Decision(false, e, seen.Name);
            }
            e.Count = 1;
            e.FirstTimestamp = now.UtcDateTime;
            Bound(_seen);
            _seen[dedupKey] = (e.Metadata.Name, 1, now);
            return new Decision(false, e, null);
        }
    }

    /// <summary>Forgets an event the server no longer has (a failed update), so the next repeat creates it again.</summary>
    public void Forget(Corev1Event e)
    {
        lock (_lock)
        {
            foreach (var key in _seen.Where(kv => kv.Value.Name == e.Metadata.Name).Select(kv => kv.Key).ToList())
            {
                _seen.Remove(key);
            }
        }
    }

    private bool AllowSpam(string key, DateTimeOffset now)
    {
        var (tokens, last) = _spam.TryGetValue(key, out var entry) ? entry : (SpamBurst, now);
        tokens = Math.Min(SpamBurst, tokens + (now - last).TotalSeconds / SpamRefill.TotalSeconds);
        if (tokens < 1)
        {
            _spam[key] = (tokens, now);
            return false;
        }
        Bound(_spam);
        _spam[key] = (tokens - 1, now);
        return true;
    }

    /// <summary>The caches are LRU-bounded in client-go (4096 entries); dropping the oldest-inserted is close enough.</summary>
    private static void Bound<TValue>(Dictionary<string, TValue> cache)
    {
        if (cache.Count >= MaxEntries)
        {
            foreach (var key in cache.Keys.Take(MaxEntries / 8).ToList())
            {
                cache.Remove(key);
            }
        }
    }
}
