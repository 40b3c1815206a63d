namespace NodeAgent.Proxy.Iptables;

/// <summary>
/// Which endpoints serve a service port (kube-proxy's CategorizeEndpoints, without topology hints): the cluster set
/// is the ready endpoints, or when none is ready the serving-and-terminating ones; the local set likewise among this
/// node's endpoints, when a Local traffic policy is in use. <see cref="HasAny"/> tells a service with no usable
/// endpoint anywhere (REJECT) from one with none on this node (DROP for the Local policy's traffic).
/// </summary>
public sealed record EndpointSelection(IReadOnlyList<Endpoint> Cluster, IReadOnlyList<Endpoint> Local, IReadOnlyList<Endpoint> AllReachable, bool HasAny)
{
    public static EndpointSelection Of(ServicePort port, IReadOnlyList<Endpoint> endpoints)
    {
        IReadOnlyList<Endpoint> cluster = [];
        var hasAny = false;
        if (port.UsesClusterEndpoints)
        {
            cluster = Pick(endpoints, _ => true);
            hasAny = cluster.Count > 0;
        }
        if (!port.UsesLocalEndpoints)
        {
            return new EndpointSelection(cluster, [], cluster, hasAny);
        }

        hasAny |= endpoints.Any(e => e.Ready || (e.Serving && e.Terminating));
        var local = Pick(endpoints, e => e.IsLocal);
        if (!port.UsesClusterEndpoints)
        {
            return new EndpointSelection([], local, local, hasAny);
        }
        var all = cluster.Concat(local.Where(l => !cluster.Contains(l))).ToList();
        return new EndpointSelection(cluster, local, all, hasAny);
    }

    private static List<Endpoint> Pick(IReadOnlyList<Endpoint> endpoints, Func<Endpoint, bool> where)
    {
        var ready = endpoints.Where(e => where(e) && e.Ready).ToList();
        return ready.Count > 0 ? ready : endpoints.Where(e => where(e) && e.Serving && e.Terminating).ToList();
    }
}
