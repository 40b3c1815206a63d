using System.Net;
using System.Text;
using NodeAgent.Proxy.Iptables;

namespace NodeAgent.Proxy.Userspace;

/// <summary>
/// The userspace mode's rules, rewritten whole at every sync in one <c>iptables-restore --noflush</c>, in the layout
/// of kube-proxy's userspace proxier: traffic arriving for a cluster, external or load-balancer IP is REDIRECTed to
/// the service's listener (KUBE-PORTALS-CONTAINER, from PREROUTING), traffic the node sends there is DNATed to the
/// node's address and listener port (KUBE-PORTALS-HOST, from OUTPUT), and node ports likewise
/// (KUBE-NODEPORT-CONTAINER / KUBE-NODEPORT-HOST, for local destinations, after everything else), with
/// KUBE-NODEPORT-NON-LOCAL accepting the listener ports. A service port without endpoints gets no redirect but a
/// REJECT in KUBE-PORTALS-REJECT, so its clients are refused at once, as in the iptables mode. Text is made only
/// from parsed values (<see cref="ServicePort"/>) and the kernel's port numbers.
/// </summary>
internal static class UserspaceRules
{
    /// <summary>A service port with a listener: its port on the node, and whether it has endpoints.</summary>
    public sealed record Portal(ServicePort Service, int ProxyPort, bool HasEndpoints);

    /// <param name="hostAddress">Where the node's own traffic is DNATed; null: REDIRECT (127.0.0.1).</param>
    /// <param name="save">The current ruleset (full syncs: missing jumps are added), or null.</param>
    public static string Build(IEnumerable<Portal> portals, IPAddress? hostAddress, string? save)
    {
        var filter = new StringBuilder();
        var containers = new StringBuilder();
        var hosts = new StringBuilder();
        var nodePorts = new StringBuilder();
        foreach (var portal in portals)
        {
            Write(portal, hostAddress, filter, containers, hosts, nodePorts);
        }

        var sb = new StringBuilder(filter.Length + containers.Length + hosts.Length + nodePorts.Length + 1024);
        sb.Append("*filter\n");
        foreach (var chain in ChainNames.UserspaceFilterChains)
        {
            sb.Append(':').Append(chain).Append(" - [0:0]\n");
        }
        JumpRules.AppendMissing(sb, save, "filter", JumpRules.Userspace);
        sb.Append(filter).Append("COMMIT\n");
        sb.Append("*nat\n");
        foreach (var chain in ChainNames.UserspaceNatChains)
        {
            sb.Append(':').Append(chain).Append(" - [0:0]\n");
        }
        JumpRules.AppendMissing(sb, save, "nat", JumpRules.Userspace);
        sb.Append(containers).Append(hosts).Append(nodePorts).Append("COMMIT\n");
        return sb.ToString();
    }

    private static void Write(Portal portal, IPAddress? hostAddress, StringBuilder filter, StringBuilder containers, StringBuilder hosts, StringBuilder nodePorts)
    {
        var svc = portal.Service;
        var p = svc.Protocol.Name();
        var match = $"-p {p} -m {p}";
        var comment = $"-m comment --comment \"{svc.Name}\"";
        var toHost = hostAddress is null ? $"REDIRECT --to-ports {portal.ProxyPort}" : $"DNAT --to-destination {hostAddress}:{portal.ProxyPort}";
        IEnumerable<IPAddress> addresses = [svc.ClusterIP, .. svc.ExternalIPs, .. svc.LoadBalancerIPs];
        foreach (var ip in addresses)
        {
            if (!portal.HasEndpoints)
            {
                filter.Append($"-A {ChainNames.PortalsReject} -m comment --comment \"{svc.Name} has no endpoints\" {match} -d {ip}/32 --dport {svc.Port} -j REJECT\n");
                continue;
            }
            containers.Append($"-A {ChainNames.PortalsContainer} {comment} {match} -d {ip}/32 --dport {svc.Port} -j REDIRECT --to-ports {portal.ProxyPort}\n");
            hosts.Append($"-A {ChainNames.PortalsHost} {comment} {match} -d {ip}/32 --dport {svc.Port} -j {toHost}\n");
        }
        if (svc.NodePort == 0)
        {
            return;
        }
        if (!portal.HasEndpoints)
        {
            filter.Append($"-A {ChainNames.PortalsReject} -m comment --comment \"{svc.Name} has no endpoints\" -m addrtype --dst-type LOCAL {match} --dport {svc.NodePort} -j REJECT\n");
            return;
        }
        nodePorts.Append($"-A {ChainNames.NodePortContainer} {comment} {match} --dport {svc.NodePort} -j REDIRECT --to-ports {portal.ProxyPort}\n");
        nodePorts.Append($"-A {ChainNames.NodePortHost} {comment} {match} --dport {svc.NodePort} -j {toHost}\n");
        filter.Append($"-A {ChainNames.NodePortNonLocal} {comment} {match} --dport {portal.ProxyPort} -j ACCEPT\n");
    }
}
