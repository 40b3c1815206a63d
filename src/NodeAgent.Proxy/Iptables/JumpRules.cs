using System.Text;

namespace NodeAgent.Proxy.Iptables;

/// <summary>
/// The jumps from the built-in chains into kube-proxy's chains (its iptablesJumpChains, and the userspace
/// proxier's), how to find them in an iptables-save output (a rule of the built-in chain that jumps to our chain
/// with our comment), and how to add the missing ones.
/// </summary>
internal static class JumpRules
{
    /// <param name="Last">Appended to the built-in chain (it must come after the others); otherwise inserted first.</param>
    public sealed record Jump(string Table, string Chain, string Target, string Comment, string Extra, bool Last = false)
    {
        /// <summary>The rule after <c>-A CHAIN</c>, as kube-proxy writes it.</summary>
        public string Rule => $"{Extra}-m comment --comment \"{Comment}\" -j {Target}";

        public bool Matches(string saveLine) =>
            saveLine.StartsWith($"-A {Chain} ", StringComparison.Ordinal) &&
            saveLine.EndsWith($" -j {Target}", StringComparison.Ordinal) &&
            saveLine.Contains(Comment, StringComparison.Ordinal);
    }

    private const string New = "-m conntrack --ctstate NEW ";

    public static readonly Jump[] All =
    [
        new("filter", "INPUT", ChainNames.ExternalServices, "kubernetes externally-visible service portals", New),
        new("filter", "FORWARD", ChainNames.ExternalServices, "kubernetes externally-visible service portals", New),
        new("filter", "INPUT", ChainNames.NodePorts, "kubernetes health check service ports", ""),
        new("filter", "FORWARD", ChainNames.Services, "kubernetes service portals", New),
        new("filter", "OUTPUT", ChainNames.Services, "kubernetes service portals", New),
        new("filter", "FORWARD", ChainNames.Forward, "kubernetes forwarding rules", ""),
        new("filter", "INPUT", ChainNames.ProxyFirewall, "kubernetes load balancer firewall", New),
        new("filter", "OUTPUT", ChainNames.ProxyFirewall, "kubernetes load balancer firewall", New),
        new("filter", "FORWARD", ChainNames.ProxyFirewall, "kubernetes load balancer firewall", New),
        new("nat", "OUTPUT", ChainNames.Services, "kubernetes service portals", ""),
        new("nat", "PREROUTING", ChainNames.Services, "kubernetes service portals", ""),
        new("nat", "POSTROUTING", ChainNames.Postrouting, "kubernetes postrouting rules", ""),
    ];

    /// <summary>The userspace mode's jumps (kube-proxy's userspace proxier, and NodeAgent's REJECT of services
    /// without endpoints).</summary>
    public static readonly Jump[] Userspace =
    [
        new("filter", "INPUT", ChainNames.PortalsReject, "kubernetes services without endpoints", New),
        new("filter", "FORWARD", ChainNames.PortalsReject, "kubernetes services without endpoints", New),
        new("filter", "OUTPUT", ChainNames.PortalsReject, "kubernetes services without endpoints", New),
        new("filter", "INPUT", ChainNames.NodePortNonLocal, "Ensure that non-local NodePort traffic can flow", ""),
        new("nat", "PREROUTING", ChainNames.PortalsContainer, "handle ClusterIPs; NOTE: this must be before the NodePort rules", ""),
        new("nat", "OUTPUT", ChainNames.PortalsHost, "handle ClusterIPs; NOTE: this must be before the NodePort rules", ""),
        new("nat", "PREROUTING", ChainNames.NodePortContainer, "handle service NodePorts; NOTE: this must be the last rule in the chain", "-m addrtype --dst-type LOCAL ", Last: true),
        new("nat", "OUTPUT", ChainNames.NodePortHost, "handle service NodePorts; NOTE: this must be the last rule in the chain", "-m addrtype --dst-type LOCAL ", Last: true),
    ];

    /// <summary>Adds to <paramref name="sb"/> the jumps of <paramref name="jumps"/> in <paramref name="table"/> that
    /// <paramref name="save"/> (the current ruleset) lacks; nothing without a save (a partial sync).</summary>
    public static void AppendMissing(StringBuilder sb, string? save, string table, IEnumerable<Jump> jumps)
    {
        if (save is null)
        {
            return;
        }
        var lines = TableLines(save, table).Where(l => l.StartsWith("-A ", StringComparison.Ordinal)).ToList();
        foreach (var jump in jumps.Where(j => j.Table == table))
        {
            if (!lines.Any(jump.Matches))
            {
                sb.Append(jump.Last ? $"-A {jump.Chain} {jump.Rule}\n" : $"-I {jump.Chain} 1 {jump.Rule}\n");
            }
        }
    }

    /// <summary>The lines of one table in an iptables-save output.</summary>
    public static IEnumerable<string> TableLines(string save, string table)
    {
        var inTable = false;
        foreach (var line in save.Split('\n'))
        {
            if (line.StartsWith('*'))
            {
                inTable = line.AsSpan(1).TrimEnd().SequenceEqual(table);
            }
            else if (inTable)
            {
                yield return line;
            }
        }
    }
}
