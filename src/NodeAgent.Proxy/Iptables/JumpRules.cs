namespace NodeAgent.Proxy.Iptables;

/// <summary>
/// The jumps from the built-in chains into kube-proxy's chains (its iptablesJumpChains), and how to find them in an
/// iptables-save output: a rule of the built-in chain that jumps to our chain with our comment.
/// </summary>
internal static class JumpRules
{
    public sealed record Jump(string Table, string Chain, string Target, string Comment, string Extra)
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
