using k8s.Models;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Proxy;

/// <summary>
/// Records service changes from the informer and nothing more (kube-proxy's ServiceChangeTracker): each change is
/// parsed and kept as the pending state of its service; <see cref="Apply"/> moves the pending states into the
/// service port map at sync time and returns the services whose ports really changed. A service the node cannot
/// program is logged (and reported to <see cref="Invalid"/>) and counts as having no ports, so the rest still sync.
/// </summary>
public sealed partial class ServiceChangeTracker(ILogger logger)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ServiceName, IReadOnlyList<ServicePort>> _pending = [];
    private readonly Dictionary<ServiceName, IReadOnlyList<ServicePort>> _applied = [];

    /// <summary>Called with the service and the reason for each service that is skipped.</summary>
    public event Action<V1Service, string>? Invalid;

    /// <summary>Records a change (null <paramref name="current"/> = deleted); true when the service's ports differ
    /// from what is applied or pending, so a sync is worth asking for.</summary>
    public bool Update(V1Service? previous, V1Service? current)
    {
        var service = current ?? previous;
        if (service is null)
        {
            return false;
        }

        var parsed = ServiceParser.Parse(service);
        IReadOnlyList<ServicePort> ports = parsed.Ports;
        if (parsed.Error is not null)
        {
            Log.ServiceSkipped(logger, parsed.Error);
            Invalid?.Invoke(service, parsed.Error);
        }
        if (current is null)
        {
            ports = [];
        }

        lock (_lock)
        {
            var before = _pending.TryGetValue(parsed.Name, out var p) ? p : _applied.GetValueOrDefault(parsed.Name) ?? [];
            if (SamePorts(before, ports))
            {
                return false;
            }
            _pending[parsed.Name] = ports;
            return true;
        }
    }

    /// <summary>Applies the pending changes to <paramref name="map"/>; returns the services that changed.</summary>
    public HashSet<ServiceName> Apply(Dictionary<ServicePortName, ServicePort> map)
    {
        var changed = new HashSet<ServiceName>();
        lock (_lock)
        {
            foreach (var (name, ports) in _pending)
            {
                var old = _applied.GetValueOrDefault(name) ?? [];
                if (SamePorts(old, ports))
                {
                    continue;
                }
                changed.Add(name);
                foreach (var p in old)
                {
                    map.Remove(p.Name);
                }
                foreach (var p in ports)
                {
                    map[p.Name] = p;
                }
                if (ports.Count == 0)
                {
                    _applied.Remove(name);
                }
                else
                {
                    _applied[name] = ports;
                }
            }
            _pending.Clear();
        }
        return changed;
    }

    internal static bool SamePorts(IReadOnlyList<ServicePort> a, IReadOnlyList<ServicePort> b) =>
        a.Count == b.Count && a.Zip(b).All(x => Same(x.First, x.Second));

    private static bool Same(ServicePort a, ServicePort b) =>
        a.Name == b.Name && a.ClusterIP.Equals(b.ClusterIP) && a.Port == b.Port && a.Protocol == b.Protocol &&
        a.NodePort == b.NodePort && a.StickySeconds == b.StickySeconds && a.ExternalPolicyLocal == b.ExternalPolicyLocal &&
        a.InternalPolicyLocal == b.InternalPolicyLocal && a.HealthCheckNodePort == b.HealthCheckNodePort &&
        a.ExternalIPs.SequenceEqual(b.ExternalIPs) && a.LoadBalancerIPs.SequenceEqual(b.LoadBalancerIPs) &&
        a.LoadBalancerSourceRanges.SequenceEqual(b.LoadBalancerSourceRanges);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Skipping service: {Reason}")]
        public static partial void ServiceSkipped(ILogger logger, string reason);
    }
}
