using k8s.Models;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Proxy;

/// <summary>
/// Records EndpointSlice changes and nothing more (kube-proxy's EndpointsChangeTracker over its EndpointSliceCache):
/// each parsed slice is kept pending under its service; <see cref="Apply"/> merges the slices of every changed
/// service into endpoints per service port (deduplicated by <c>ip:port</c>, in a stable order) at sync time and
/// returns the services whose endpoints changed, with the endpoints that went away (for UDP, their conntrack entries
/// must go too). A malformed slice is ignored with a log line: the previous state of that slice stays.
/// </summary>
public sealed partial class EndpointsChangeTracker(string nodeName, ILogger logger)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ServiceName, Dictionary<string, EndpointSliceParser.Slice?>> _pending = [];
    private readonly Dictionary<ServiceName, Dictionary<string, EndpointSliceParser.Slice>> _slices = [];
    private readonly Dictionary<string, ServiceName> _sliceOwner = [];
    private readonly Dictionary<ServiceName, List<ServicePortName>> _portsOf = [];

    /// <summary>What <see cref="Apply"/> changed.</summary>
    public sealed record Result(HashSet<ServiceName> Changed, List<(ServicePortName Port, Endpoint Endpoint)> Removed)
    {
        /// <summary>Trigger times of the applied slices that changed something (network programming latency).</summary>
        public List<DateTimeOffset> TriggerTimes { get; } = [];
    }

    /// <summary>Records a slice (removed = deleted); true when something is now pending.</summary>
    public bool Update(V1EndpointSlice slice, bool removed)
    {
        var parsed = EndpointSliceParser.Parse(slice, out var error);
        if (error is not null)
        {
            Log.SliceIgnored(logger, error);
            return false;
        }
        var key = $"{parsed.Service.Namespace}/{parsed.Name}";
        lock (_lock)
        {
            // A slice whose service label changed leaves its old service.
            if (_sliceOwner.TryGetValue(key, out var owner) && owner != parsed.Service)
            {
                PendingOf(owner)[parsed.Name] = null;
            }
            var now = removed || parsed.Ignored ? null : parsed;
            var before = _pending.TryGetValue(parsed.Service, out var pending) && pending.TryGetValue(parsed.Name, out var p)
                ? p
                : _slices.GetValueOrDefault(parsed.Service)?.GetValueOrDefault(parsed.Name);
            if (Same(before, now))
            {
                // A resync, or the informer's queued copy of a list already recorded: nothing to program.
                return false;
            }
            if (now is null)
            {
                _sliceOwner.Remove(key);
            }
            else
            {
                _sliceOwner[key] = parsed.Service;
            }
            PendingOf(parsed.Service)[parsed.Name] = now;
            return true;
        }
    }

    private Dictionary<string, EndpointSliceParser.Slice?> PendingOf(ServiceName service)
    {
        if (!_pending.TryGetValue(service, out var p))
        {
            _pending[service] = p = [];
        }
        return p;
    }

    /// <summary>Applies the pending slices to <paramref name="map"/> (endpoints per service port).</summary>
    public Result Apply(Dictionary<ServicePortName, IReadOnlyList<Endpoint>> map)
    {
        var result = new Result([], []);
        lock (_lock)
        {
            foreach (var (service, changes) in _pending)
            {
                if (!_slices.TryGetValue(service, out var slices))
                {
                    _slices[service] = slices = [];
                }
                foreach (var (name, slice) in changes)
                {
                    if (slice is null)
                    {
                        slices.Remove(name);
                    }
                    else
                    {
                        slices[name] = slice;
                    }
                }
                if (slices.Count == 0)
                {
                    _slices.Remove(service);
                }

                var merged = Merge(service, slices.Values);
                // The ports this service had in the map (an index, so a first list of 10,000 services stays linear).
                var before = _portsOf.GetValueOrDefault(service) ?? [];
                if (merged.Count == 0)
                {
                    _portsOf.Remove(service);
                }
                else
                {
                    _portsOf[service] = [.. merged.Keys];
                }
                var changed = false;
                foreach (var port in before.Where(p => !merged.ContainsKey(p)))
                {
                    changed = true;
                    CollectRemoved(port, map[port], [], result.Removed);
                    map.Remove(port);
                }
                foreach (var (port, endpoints) in merged)
                {
                    var old = map.GetValueOrDefault(port) ?? [];
                    if (!old.SequenceEqual(endpoints))
                    {
                        changed = true;
                        CollectRemoved(port, old, endpoints, result.Removed);
                        map[port] = endpoints;
                    }
                }
                if (changed)
                {
                    result.Changed.Add(service);
                    result.TriggerTimes.AddRange(changes.Values.Select(c => c?.TriggerTime).OfType<DateTimeOffset>());
                }
            }
            _pending.Clear();
        }
        return result;
    }

    private Dictionary<ServicePortName, IReadOnlyList<Endpoint>> Merge(ServiceName service, IEnumerable<EndpointSliceParser.Slice> slices)
    {
        var merged = new Dictionary<ServicePortName, Dictionary<string, Endpoint>>();
        foreach (var slice in slices.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            foreach (var port in slice.Ports)
            {
                var name = new ServicePortName(service, port.Name);
                if (!merged.TryGetValue(name, out var byAddress))
                {
                    merged[name] = byAddress = new Dictionary<string, Endpoint>(StringComparer.Ordinal);
                }
                foreach (var e in slice.Endpoints)
                {
                    var endpoint = new Endpoint(e.Address, port.Port, e.Ready, e.Serving, e.Terminating, e.NodeName == nodeName);
                    // The first slice (by name) that lists an address wins, as kube-proxy dedups.
                    byAddress.TryAdd(endpoint.ToString(), endpoint);
                }
            }
        }
        return merged.ToDictionary(m => m.Key, m => (IReadOnlyList<Endpoint>)m.Value.Values
            .OrderBy(e => e.Address.GetAddressBytes(), ByteOrder.Instance).ThenBy(e => e.Port).ToList());
    }

    private static void CollectRemoved(ServicePortName port, IReadOnlyList<Endpoint> before, IReadOnlyList<Endpoint> after,
        List<(ServicePortName, Endpoint)> removed)
    {
        foreach (var e in before.Where(b => !after.Any(a => a.Address.Equals(b.Address) && a.Port == b.Port)))
        {
            removed.Add((port, e));
        }
    }

    private static bool Same(EndpointSliceParser.Slice? a, EndpointSliceParser.Slice? b) =>
        a is null || b is null ? a is null && b is null :
        a.Service == b.Service && a.Name == b.Name && a.Ports.SequenceEqual(b.Ports) && a.Endpoints.SequenceEqual(b.Endpoints);

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring EndpointSlice: {Reason}")]
        public static partial void SliceIgnored(ILogger logger, string reason);
    }
}
