using System.Globalization;
using System.Text;

namespace NodeAgent.Proxy.Iptables;

/// <summary>
/// The rules of one service port, in kube-proxy's layout: its entries in KUBE-SERVICES and KUBE-NODEPORTS (or
/// REJECT/DROP in the filter table when it has no usable endpoints), then its own chains: KUBE-SVC (cluster policy)
/// and KUBE-SVL (local policy) spreading over the endpoints with <c>statistic</c> probabilities 1/(n-i) and ClientIP
/// affinity through <c>recent</c>, KUBE-EXT for external destinations, KUBE-FW for load-balancer source ranges, and a
/// KUBE-SEP per endpoint (hairpin masquerade, DNAT). Every value written comes from the parsed <see cref="ServicePort"/>.
/// </summary>
internal sealed class ServiceRules(IptablesSettings settings, ChainNameCache names)
{
    private const string MarkMasq = ChainNames.MarkMasq;

    /// <summary>Where one sync's text goes; per-service chains of unchanged services in a partial sync go nowhere.</summary>
    public sealed class Output
    {
        public StringBuilder FilterRules { get; } = new();

        public StringBuilder NatChains { get; } = new();

        public StringBuilder NatRules { get; } = new();

        /// <summary>KUBE-SERVICES and KUBE-NODEPORTS rules, always written.</summary>
        public StringBuilder NatEntry { get; } = new();

        public HashSet<string> ActiveNatChains { get; } = new(StringComparer.Ordinal);
    }

    public void Write(ServicePort svc, IReadOnlyList<Endpoint> endpoints, Output output, bool writeChains)
    {
        var name = svc.Name.ToString();
        var proto = svc.Protocol.Name();
        var chains = names.For(svc);
        var sel = EndpointSelection.Of(svc, endpoints);
        var hasEndpoints = sel.HasAny;
        var usesClusterChain = sel.Cluster.Count > 0 && svc.UsesClusterEndpoints;
        var usesLocalChain = sel.Local.Count > 0 && svc.UsesLocalEndpoints;
        var internalChain = svc.InternalPolicyLocal ? chains.Local : chains.Service;
        var hasInternal = hasEndpoints && (!svc.InternalPolicyLocal || sel.Local.Count > 0);
        var externalPolicyChain = svc.ExternalPolicyLocal ? chains.Local : chains.Service;
        var hasExternal = hasEndpoints && (!svc.ExternalPolicyLocal || sel.Local.Count > 0);
        var usesExternalChain = hasEndpoints && svc.ExternallyAccessible;
        var usesFirewall = hasEndpoints && svc.LoadBalancerIPs.Count > 0 && svc.LoadBalancerSourceRanges.Count > 0;
        var lbTarget = usesFirewall ? chains.Firewall : chains.External;

        string internalFilterTarget = "REJECT", externalFilterTarget = "REJECT";
        string internalFilterComment = $"\"{name} has no endpoints\"", externalFilterComment = internalFilterComment;
        if (hasEndpoints)
        {
            internalFilterTarget = externalFilterTarget = "DROP";
            internalFilterComment = externalFilterComment = $"\"{name} has no local endpoints\"";
        }

        var match = $"-m {proto} -p {proto}";
        var port = svc.Port.ToString(CultureInfo.InvariantCulture);
        var entry = output.NatEntry;
        var filter = output.FilterRules;

        // Cluster IP.
        if (hasInternal)
        {
            entry.Append($"-A {ChainNames.Services} -m comment --comment \"{name} cluster IP\" {match} -d {svc.ClusterIP} --dport {port} -j {internalChain}\n");
        }
        else
        {
            filter.Append($"-A {ChainNames.Services} -m comment --comment {internalFilterComment} {match} -d {svc.ClusterIP} --dport {port} -j {internalFilterTarget}\n");
        }

        // External IPs.
        foreach (var ip in svc.ExternalIPs)
        {
            if (hasEndpoints)
            {
                entry.Append($"-A {ChainNames.Services} -m comment --comment \"{name} external IP\" {match} -d {ip} --dport {port} -j {chains.External}\n");
            }
            if (!hasExternal)
            {
                filter.Append($"-A {ChainNames.ExternalServices} -m comment --comment {externalFilterComment} {match} -d {ip} --dport {port} -j {externalFilterTarget}\n");
            }
        }

        // Load-balancer IPs.
        foreach (var ip in svc.LoadBalancerIPs)
        {
            if (hasEndpoints)
            {
                entry.Append($"-A {ChainNames.Services} -m comment --comment \"{name} loadbalancer IP\" {match} -d {ip} --dport {port} -j {lbTarget}\n");
            }
            if (usesFirewall)
            {
                filter.Append($"-A {ChainNames.ProxyFirewall} -m comment --comment \"{name} traffic not accepted by {chains.Firewall}\" {match} -d {ip} --dport {port} -j DROP\n");
            }
            if (!hasExternal)
            {
                filter.Append($"-A {ChainNames.ExternalServices} -m comment --comment {externalFilterComment} {match} -d {ip} --dport {port} -j {externalFilterTarget}\n");
            }
        }

        // Node port.
        if (svc.NodePort != 0)
        {
            var nodePort = svc.NodePort.ToString(CultureInfo.InvariantCulture);
            if (hasEndpoints)
            {
                entry.Append($"-A {ChainNames.NodePorts} -m comment --comment {name} {match} --dport {nodePort} -j {chains.External}\n");
            }
            if (!hasExternal)
            {
                filter.Append($"-A {ChainNames.ExternalServices} -m comment --comment {externalFilterComment} -m addrtype --dst-type LOCAL {match} --dport {nodePort} -j {externalFilterTarget}\n");
            }
        }

        if (svc.HealthCheckNodePort != 0)
        {
            filter.Append($"-A {ChainNames.NodePorts} -m comment --comment \"{name} health check node port\" -m tcp -p tcp --dport {svc.HealthCheckNodePort.ToString(CultureInfo.InvariantCulture)} -j ACCEPT\n");
        }

        // The service's own chains: always counted as active, written only when asked.
        var chainsOut = writeChains ? output.NatChains : null;
        var rules = writeChains ? output.NatRules : null;
        void Chain(string chain)
        {
            output.ActiveNatChains.Add(chain);
            chainsOut?.Append(':').Append(chain).Append(" - [0:0]\n");
        }

        if (hasInternal)
        {
            var masq = settings.MasqueradeAll ? "" : settings.ClusterCidrText is { } cidr ? $" ! -s {cidr}" : null;
            if (masq is not null)
            {
                rules?.Append($"-A {internalChain} -m comment --comment \"{name} cluster IP\" {match} -d {svc.ClusterIP} --dport {port}{masq} -j {MarkMasq}\n");
            }
        }

        if (usesExternalChain)
        {
            Chain(chains.External);
            if (!svc.ExternalPolicyLocal)
            {
                rules?.Append($"-A {chains.External} -m comment --comment \"masquerade traffic for {name} external destinations\" -j {MarkMasq}\n");
            }
            else
            {
                if (settings.ClusterCidrText is { } cidr)
                {
                    rules?.Append($"-A {chains.External} -m comment --comment \"pod traffic for {name} external destinations\" -s {cidr} -j {chains.Service}\n");
                }
                rules?.Append($"-A {chains.External} -m comment --comment \"masquerade LOCAL traffic for {name} external destinations\" -m addrtype --src-type LOCAL -j {MarkMasq}\n");
                rules?.Append($"-A {chains.External} -m comment --comment \"route LOCAL traffic for {name} external destinations\" -m addrtype --src-type LOCAL -j {chains.Service}\n");
            }
            if (hasExternal)
            {
                rules?.Append($"-A {chains.External} -j {externalPolicyChain}\n");
            }
        }

        if (usesFirewall)
        {
            Chain(chains.Firewall);
            foreach (var (network, prefix) in svc.LoadBalancerSourceRanges)
            {
                rules?.Append($"-A {chains.Firewall} -m comment --comment \"{name} loadbalancer IP\" -s {network}/{prefix} -j {chains.External}\n");
            }
            rules?.Append($"-A {chains.Firewall} -m comment --comment \"other traffic to {name} will be dropped by KUBE-PROXY-FIREWALL\"\n");
        }

        if (usesClusterChain)
        {
            Chain(chains.Service);
            WriteSpread(rules, svc, name, chains.Service, sel.Cluster);
        }
        if (usesLocalChain)
        {
            Chain(chains.Local);
            WriteSpread(rules, svc, name, chains.Local, sel.Local);
        }

        foreach (var ep in sel.AllReachable)
        {
            var sep = names.For(svc, ep);
            Chain(sep);
            rules?.Append($"-A {sep} -m comment --comment {name} -s {ep.Address} -j {MarkMasq}\n");
            var affinity = svc.StickySeconds is null ? "" : $" -m recent --name {sep} --set";
            rules?.Append($"-A {sep} -m comment --comment {name}{affinity} {match} -j DNAT --to-destination {ep}\n");
        }
    }

    /// <summary>Affinity first (a client seen within the timeout goes back to its endpoint), then endpoint i of n
    /// with probability 1/(n-i), the last one unconditionally.</summary>
    private void WriteSpread(StringBuilder? rules, ServicePort svc, string name, string chain, IReadOnlyList<Endpoint> endpoints)
    {
        if (rules is null)
        {
            return;
        }
        if (svc.StickySeconds is { } seconds)
        {
            foreach (var ep in endpoints)
            {
                var sep = names.For(svc, ep);
                rules.Append($"-A {chain} -m comment --comment \"{name} -> {ep}\" -m recent --name {sep} --rcheck --seconds {seconds.ToString(CultureInfo.InvariantCulture)} --reap -j {sep}\n");
            }
        }
        for (var i = 0; i < endpoints.Count; i++)
        {
            var ep = endpoints[i];
            var probability = i < endpoints.Count - 1 ? $" -m statistic --mode random --probability {Probability(endpoints.Count - i)}" : "";
            rules.Append($"-A {chain} -m comment --comment \"{name} -> {ep}\"{probability} -j {names.For(svc, ep)}\n");
        }
    }

    /// <summary>1/n with ten decimals, as kube-proxy prints it (<c>%0.10f</c>).</summary>
    internal static string Probability(int n) => (1.0 / n).ToString("F10", CultureInfo.InvariantCulture);
}
