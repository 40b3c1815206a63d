using k8s.Models;
using NodeAgent.Proxy;
using NodeAgent.Tests.Kubelet;

namespace NodeAgent.Tests.Proxy;

/// <summary>Builds <see cref="ProxyState"/>s through the real trackers, as a sync would see them.</summary>
public sealed class ProxyStates(string nodeName = "node-a")
{
    private readonly ListLogger<ProxyStates> _log = new();
    private readonly Dictionary<ServicePortName, ServicePort> _services = [];
    private readonly Dictionary<ServicePortName, IReadOnlyList<Endpoint>> _endpoints = [];
    private ServiceChangeTracker? _serviceTracker;
    private EndpointsChangeTracker? _endpointTracker;

    public ListLogger<ProxyStates> Log => _log;

    private ServiceChangeTracker Services => _serviceTracker ??= new ServiceChangeTracker(_log);

    private EndpointsChangeTracker Endpoints => _endpointTracker ??= new EndpointsChangeTracker(nodeName, _log);

    public ProxyStates Add(V1Service svc)
    {
        Services.Update(null, svc);
        return this;
    }

    public ProxyStates Remove(V1Service svc)
    {
        Services.Update(svc, null);
        return this;
    }

    public ProxyStates Add(V1EndpointSlice slice)
    {
        Endpoints.Update(slice, removed: false);
        return this;
    }

    public ProxyStates Remove(V1EndpointSlice slice)
    {
        Endpoints.Update(slice, removed: true);
        return this;
    }

    /// <summary>Applies what was recorded since the last call.</summary>
    public ProxyState Next()
    {
        var changed = Services.Apply(_services);
        var eps = Endpoints.Apply(_endpoints);
        changed.UnionWith(eps.Changed);
        return new ProxyState(new Dictionary<ServicePortName, ServicePort>(_services),
            new Dictionary<ServicePortName, IReadOnlyList<Endpoint>>(_endpoints), changed, eps.Removed);
    }
}
