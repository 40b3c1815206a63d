using System.Net;

namespace NodeAgent.Proxy.Userspace;

/// <summary>
/// One service port's endpoint choice in userspace mode (kube-proxy's LoadBalancerRR): round-robin over the
/// endpoints, reshuffled whenever the set changes; with ClientIP affinity a client keeps its endpoint while it
/// comes back within the affinity timeout, unless the caller asks for another (its connect failed). Thread-safe.
/// </summary>
internal sealed class RoundRobinBalancer(TimeProvider time)
{
    private const int MinPrune = 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, (IPEndPoint Endpoint, long LastUsed)> _affinity = [];
    private IPEndPoint[] _endpoints = [];
    private int _next;
    private TimeSpan? _ttl;
    private int _pruneAt = MinPrune;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _endpoints.Length;
            }
        }
    }

    /// <summary>The endpoints as of a sync; <paramref name="ttl"/> is the ClientIP affinity timeout (null: none).</summary>
    public void Update(IReadOnlyList<IPEndPoint> endpoints, TimeSpan? ttl)
    {
        lock (_lock)
        {
            _ttl = ttl;
            if (ttl is null)
            {
                _affinity.Clear();
            }
            if (endpoints.Count == _endpoints.Length && endpoints.All(_endpoints.Contains))
            {
                return;
            }
            var shuffled = endpoints.ToArray();
            Random.Shared.Shuffle(shuffled);
            _endpoints = shuffled;
            _next = 0;
            foreach (var client in _affinity.Where(a => !shuffled.Contains(a.Value.Endpoint)).Select(a => a.Key).ToList())
            {
                _affinity.Remove(client);
            }
        }
    }

    /// <summary>The endpoint for a new connection from <paramref name="client"/>, or null without endpoints.
    /// <paramref name="skipAffinity"/>: the client's pinned endpoint failed, take the next one (and pin that).</summary>
    public IPEndPoint? Next(IPAddress client, bool skipAffinity)
    {
        lock (_lock)
        {
            if (_endpoints.Length == 0)
            {
                return null;
            }
            var now = time.GetTimestamp();
            if (_ttl is { } ttl && !skipAffinity && _affinity.TryGetValue(client, out var pinned) && time.GetElapsedTime(pinned.LastUsed, now) < ttl)
            {
                _affinity[client] = (pinned.Endpoint, now);
                return pinned.Endpoint;
            }
            var endpoint = _endpoints[_next];
            _next = (_next + 1) % _endpoints.Length;
            if (_ttl is { } keep)
            {
                _affinity[client] = (endpoint, now);
                if (_affinity.Count >= _pruneAt)
                {
                    Prune(keep, now);
                }
            }
            return endpoint;
        }
    }

    private void Prune(TimeSpan ttl, long now)
    {
        foreach (var client in _affinity.Where(a => time.GetElapsedTime(a.Value.LastUsed, now) >= ttl).Select(a => a.Key).ToList())
        {
            _affinity.Remove(client);
        }
        _pruneAt = Math.Max(MinPrune, 2 * _affinity.Count);
    }
}
