namespace NodeAgent.Proxy;

/// <summary>
/// What one sync programs: every service port and its endpoints as of the sync, the services that changed since the
/// last sync (a partial sync rewrites only their chains), and endpoints that went away (for conntrack cleanup).
/// The dictionaries are copies: the trackers go on recording while a sync runs.
/// </summary>
public sealed record ProxyState(
    IReadOnlyDictionary<ServicePortName, ServicePort> Services,
    IReadOnlyDictionary<ServicePortName, IReadOnlyList<Endpoint>> Endpoints,
    IReadOnlySet<ServiceName> Changed,
    IReadOnlyList<(ServicePortName Port, Endpoint Endpoint)> RemovedEndpoints)
{
    /// <summary>When the EndpointSlice changes this sync programs happened (for the programming latency).</summary>
    public IReadOnlyList<DateTimeOffset> TriggerTimes { get; init; } = [];

    public IReadOnlyList<Endpoint> EndpointsOf(ServicePortName port) => Endpoints.GetValueOrDefault(port) ?? [];
}
