using System.Text;
using k8s.Models;
using NodeAgent.Proxy.Iptables;

namespace NodeAgent.Proxy;

/// <summary>
/// <c>nodeagent proxy explain NAMESPACE/SERVICE</c>: for one service, its endpoints with their conditions, in plain
/// words what happens to a packet sent to each of its ports (which endpoints, with which chance, masquerade or not,
/// affinity, rejection), and the iptables rules on this node that do it.
/// </summary>
public static class ServiceExplainer
{
    public static string Explain(V1Service service, IEnumerable<V1EndpointSlice> slices, string iptablesSave, string nodeName)
    {
        var sb = new StringBuilder();
        var parsed = ServiceParser.Parse(service);
        sb.Append($"Service {parsed.Name} (type {service.Spec?.Type ?? "ClusterIP"}, cluster IP {service.Spec?.ClusterIP ?? "none"})\n");
        if (parsed.Error is not null)
        {
            return sb.Append($"Not programmed: {parsed.Error}\n").ToString();
        }
        if (parsed.Ports.Count == 0)
        {
            return sb.Append("Not proxied (headless, ExternalName or not IPv4): no rules on this node.\n").ToString();
        }

        var tracker = new EndpointsChangeTracker(nodeName, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        foreach (var slice in slices)
        {
            tracker.Update(slice, removed: false);
        }
        var endpoints = new Dictionary<ServicePortName, IReadOnlyList<Endpoint>>();
        tracker.Apply(endpoints);

        var ruleLines = iptablesSave.Split('\n');
        foreach (var port in parsed.Ports)
        {
            var eps = endpoints.GetValueOrDefault(port.Name) ?? [];
            var chain = ChainNames.Service(port.Name.ToString(), port.Protocol);
            sb.Append($"\nPort {(port.Name.Port.Length == 0 ? "(unnamed)" : port.Name.Port)} {port.Port}/{port.Protocol.Name().ToUpperInvariant()} (chain {chain})\n");
            sb.Append("  Endpoints:\n");
            if (eps.Count == 0)
            {
                sb.Append("    none\n");
            }
            foreach (var e in eps)
            {
                var conditions = e.Ready ? "ready" : e.Serving && e.Terminating ? "not ready, serving, terminating" : e.Terminating ? "not ready, terminating" : "not ready";
                sb.Append($"    {e} {conditions}{(e.IsLocal ? ", on this node" : "")}\n");
            }
            sb.Append("  What happens:\n");
            Describe(sb, port, EndpointSelection.Of(port, eps));
            sb.Append("  Rules on this node:\n");
            var names = new HashSet<string>(StringComparer.Ordinal) { chain, ChainNames.Local(port.Name.ToString(), port.Protocol),
                ChainNames.External(port.Name.ToString(), port.Protocol), ChainNames.Firewall(port.Name.ToString(), port.Protocol) };
            names.UnionWith(eps.Select(e => ChainNames.Endpoint(port.Name.ToString(), port.Protocol, e.ToString())));
            var comment = port.Name.ToString();
            var mine = ruleLines.Where(l => l.StartsWith("-A ", StringComparison.Ordinal) &&
                (names.Contains(l.Split(' ')[1]) || l.Contains($"\"{comment} ", StringComparison.Ordinal) || l.Contains($" {comment} ", StringComparison.Ordinal))).ToList();
            if (mine.Count == 0)
            {
                sb.Append("    none (the proxy has not programmed it, or runs elsewhere)\n");
            }
            foreach (var line in mine)
            {
                sb.Append("    ").Append(line).Append('\n');
            }
        }
        return sb.ToString();
    }

    private static void Describe(StringBuilder sb, ServicePort port, EndpointSelection sel)
    {
        var target = $"{port.ClusterIP}:{port.Port}";
        if (!sel.HasAny)
        {
            sb.Append($"    A packet to {target}{(port.NodePort != 0 ? $" or to node port {port.NodePort}" : "")} is rejected at once (ICMP port unreachable): no endpoint is ready or serving.\n");
            return;
        }
        var internalSet = port.InternalPolicyLocal ? sel.Local : sel.Cluster;
        if (internalSet.Count == 0)
        {
            sb.Append($"    A packet to {target} is dropped: internalTrafficPolicy is Local and no endpoint is on this node.\n");
        }
        else
        {
            sb.Append($"    A packet to {target} goes to one of {internalSet.Count} endpoint(s), each with probability 1/{internalSet.Count}: {string.Join(", ", internalSet)}");
            sb.Append(internalSet.Any(e => !e.Ready) ? " (none is ready: serving endpoints that are terminating are used).\n" : ".\n");
        }
        if (port.StickySeconds is { } seconds)
        {
            sb.Append($"    A client keeps the endpoint it got for {seconds} s after its last packet (ClientIP affinity).\n");
        }
        if (port.NodePort != 0)
        {
            var externalSet = port.ExternalPolicyLocal ? sel.Local : sel.Cluster;
            sb.Append(externalSet.Count == 0
                ? $"    A packet to node port {port.NodePort} from outside is dropped: externalTrafficPolicy is Local and no endpoint is on this node.\n"
                : port.ExternalPolicyLocal
                    ? $"    A packet to node port {port.NodePort} goes to this node's endpoints only ({string.Join(", ", externalSet)}), keeping the client's source address.\n"
                    : $"    A packet to node port {port.NodePort} goes to any of the endpoints above, masqueraded to this node's address.\n");
        }
        foreach (var ip in port.ExternalIPs)
        {
            sb.Append($"    A packet to external IP {ip}:{port.Port} is handled as node port traffic.\n");
        }
        sb.Append("    A packet an endpoint sends to its own service and that comes back to it is masqueraded (hairpin).\n");
    }
}
