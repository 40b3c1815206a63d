namespace NodeAgent.Proxy.Iptables;

/// <summary>
/// Chain names per service port and endpoint, hashed once: a sync of 10,000 services names 100,000 endpoint chains,
/// and sha256 for each on every sync would cost more than writing the rules. Entries of service ports and endpoints
/// that are gone are dropped by <see cref="Retain"/>.
/// </summary>
internal sealed class ChainNameCache
{
    public sealed record ServiceChains(string Service, string Local, string External, string Firewall);

    private Dictionary<(ServicePortName, L4Protocol), ServiceChains> _services = [];
    private Dictionary<(ServicePortName, L4Protocol, Endpoint), string> _endpoints = [];
    private HashSet<(ServicePortName, L4Protocol)> _usedServices = [];
    private HashSet<(ServicePortName, L4Protocol, Endpoint)> _usedEndpoints = [];

    public ServiceChains For(ServicePort svc)
    {
        var key = (svc.Name, svc.Protocol);
        _usedServices.Add(key);
        if (!_services.TryGetValue(key, out var chains))
        {
            var name = svc.Name.ToString();
            _services[key] = chains = new ServiceChains(ChainNames.Service(name, svc.Protocol), ChainNames.Local(name, svc.Protocol),
                ChainNames.External(name, svc.Protocol), ChainNames.Firewall(name, svc.Protocol));
        }
        return chains;
    }

    public string For(ServicePort svc, Endpoint ep)
    {
        var key = (svc.Name, svc.Protocol, ep);
        _usedEndpoints.Add(key);
        if (!_endpoints.TryGetValue(key, out var chain))
        {
            _endpoints[key] = chain = ChainNames.Endpoint(svc.Name.ToString(), svc.Protocol, ep.ToString());
        }
        return chain;
    }

    /// <summary>Keeps only what was asked for since the last call.</summary>
    public void Retain()
    {
        _services = _services.Where(s => _usedServices.Contains(s.Key)).ToDictionary();
        _endpoints = _endpoints.Where(e => _usedEndpoints.Contains(e.Key)).ToDictionary();
        _usedServices = [];
        _usedEndpoints = [];
    }
}
