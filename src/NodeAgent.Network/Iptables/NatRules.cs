using System.Text;
using NodeAgent.Cri;
using NodeAgent.Linux;

namespace NodeAgent.Network.Iptables;

/// <summary>
/// The agent's iptables rules, in chains of its own: masquerade for pod traffic leaving the pod CIDR, forwarding
/// to and from pods, and hostPort DNAT with hairpin masquerade the way the CNI portmap plugin does it; and kubelet's
/// <see cref="IptablesHint"/> chain. Every change
/// is one atomic <c>iptables-restore --noflush</c>; the hostPort chain is rewritten whole from the live pods.
/// </summary>
public sealed class NatRules(NodeCommand node)
{
    private readonly Linux.Iptables _iptables = new(node);

    public const string Postrouting = "NODEAGENT-POSTROUTING", HostPorts = "NODEAGENT-HOSTPORTS", Forward = "NODEAGENT-FORWARD";

    /// <summary>
    /// kubelet's empty chain in the mangle table of the iptables it uses, by which kube-proxy's iptables-wrapper and
    /// others tell whether the node uses iptables-nft or iptables-legacy (kubelet's <c>KubeIPTablesHintChain</c>).
    /// </summary>
    public const string IptablesHint = "KUBE-IPTABLES-HINT";
    private const string MasqMark = "0x4000/0x4000";

    private static readonly (string Table, string Chain, string Rule)[] Jumps =
    [
        ("nat", "POSTROUTING", $"-m comment --comment \"nodeagent pod masquerade\" -j {Postrouting}"),
        ("nat", "PREROUTING", $"-m addrtype --dst-type LOCAL -m comment --comment \"nodeagent hostports\" -j {HostPorts}"),
        ("nat", "OUTPUT", $"-m addrtype --dst-type LOCAL -m comment --comment \"nodeagent hostports\" -j {HostPorts}"),
        ("filter", "FORWARD", $"-m comment --comment \"nodeagent pod forwarding\" -j {Forward}"),
    ];

    /// <summary>A pod with published ports, as the hostPort chain needs it.</summary>
    public sealed record PodPorts(string SandboxId, string PodIp, IReadOnlyList<PortMapping> Ports);

    /// <summary>Creates the chains and the jumps into them (once), and the masquerade and forward rules.</summary>
    public async Task EnsureBaseAsync(string podCidr, CancellationToken cancellationToken)
    {
        var existing = await SaveAsync(cancellationToken);
        var sb = new StringBuilder();
        if (!existing.Contains($":{IptablesHint} ", StringComparison.Ordinal))
        {
            sb.Append($"*mangle\n:{IptablesHint} - [0:0]\nCOMMIT\n");
        }

        foreach (var table in new[] { "nat", "filter" })
        {
            sb.Append('*').Append(table).Append('\n');
            if (table == "nat")
            {
                sb.Append($":{Postrouting} - [0:0]\n");
                if (!existing.Contains($":{HostPorts} ", StringComparison.Ordinal))
                {
                    sb.Append($":{HostPorts} - [0:0]\n");
                }

                sb.Append($"-A {Postrouting} -m mark --mark {MasqMark} -m comment --comment \"hostport hairpin\" -j MASQUERADE\n");
                sb.Append($"-A {Postrouting} -s {podCidr} ! -d {podCidr} -m comment --comment \"pod traffic leaving the pod CIDR\" -j MASQUERADE\n");
            }
            else
            {
                sb.Append($":{Forward} - [0:0]\n");
                sb.Append($"-A {Forward} -s {podCidr} -j ACCEPT\n-A {Forward} -d {podCidr} -j ACCEPT\n");
            }

            foreach (var (t, chain, rule) in Jumps.Where(j => j.Table == table))
            {
                if (!existing.Contains($"-A {chain} {rule}", StringComparison.Ordinal))
                {
                    sb.Append($"-I {chain} 1 {rule}\n");
                }
            }

            sb.Append("COMMIT\n");
        }

        await RestoreAsync(sb.ToString(), cancellationToken);
    }

    /// <summary>Rewrites the hostPort chain for exactly these pods. A mapping with an invalid value is left out and
    /// reported to <paramref name="invalid"/> (sandbox ID and reason); the rule text holds parsed values only.</summary>
    public Task SyncHostPortsAsync(IEnumerable<PodPorts> pods, CancellationToken cancellationToken, Action<string, string>? invalid = null)
    {
        var sb = new StringBuilder("*nat\n").Append($":{HostPorts} - [0:0]\n");
        foreach (var pod in pods)
        {
            if (!IsSandboxId(pod.SandboxId))
            {
                invalid?.Invoke(pod.SandboxId, "sandbox ID is not a hexadecimal ID");
                continue;
            }
            foreach (var port in pod.Ports.Where(p => p.HostPort != 0))
            {
                if (!HostPortRule.TryParse(port, pod.PodIp, out var rule, out var error))
                {
                    invalid?.Invoke(pod.SandboxId, error);
                    continue;
                }
                var match = $"-A {HostPorts} {rule.Match()} -m comment --comment \"sandbox {pod.SandboxId[..12]} hostport {rule.HostPort}\"";
                sb.Append($"{match} -s {rule.PodIp}/32 -j MARK --set-xmark {MasqMark}\n");
                sb.Append($"{match} -j DNAT --to-destination {rule.Destination()}\n");
            }
        }

        sb.Append("COMMIT\n");
        return RestoreAsync(sb.ToString(), cancellationToken);
    }

    /// <summary>Checks every mapping before a sandbox is set up; throws naming the first invalid value.</summary>
    public static void Validate(IEnumerable<PortMapping> ports, string podIp)
    {
        foreach (var port in ports.Where(p => p.HostPort != 0))
        {
            if (!HostPortRule.TryParse(port, podIp, out _, out var error))
            {
                throw new ArgumentException($"port mapping {error}");
            }
        }
    }

    private static bool IsSandboxId(string id) => id.Length >= 12 && id.All(char.IsAsciiHexDigitLower);

    /// <summary>Removes the jumps and the agent's chains. Idempotent.</summary>
    public async Task CleanupAsync(CancellationToken cancellationToken)
    {
        var existing = await SaveAsync(cancellationToken);
        var sb = new StringBuilder();
        if (existing.Contains($":{IptablesHint} ", StringComparison.Ordinal))
        {
            sb.Append($"*mangle\n-X {IptablesHint}\nCOMMIT\n");
        }

        foreach (var table in new[] { "nat", "filter" })
        {
            var chains = table == "nat" ? new[] { Postrouting, HostPorts } : [Forward];
            sb.Append('*').Append(table).Append('\n');
            foreach (var (t, chain, rule) in Jumps.Where(j => j.Table == table))
            {
                if (existing.Contains($"-A {chain} {rule}", StringComparison.Ordinal))
                {
                    sb.Append($"-D {chain} {rule}\n");
                }
            }

            foreach (var chain in chains.Where(c => existing.Contains($":{c} ", StringComparison.Ordinal)))
            {
                sb.Append($":{chain} - [0:0]\n-X {chain}\n");
            }

            sb.Append("COMMIT\n");
        }

        await RestoreAsync(sb.ToString(), cancellationToken);
    }

    public Task<string> SaveAsync(CancellationToken cancellationToken) => _iptables.SaveAsync(null, cancellationToken);

    private Task RestoreAsync(string rules, CancellationToken cancellationToken) => _iptables.RestoreAsync(rules, cancellationToken);
}
