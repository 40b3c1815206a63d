using System.Text;

namespace NodeAgent.Proxy.Iptables;

/// <summary>
/// <c>nodeagent proxy --cleanup</c> for both modes: removes the jumps from the built-in chains into the proxy's
/// chains, then flushes and deletes every chain the proxy makes (the iptables mode's fixed ones and any
/// <c>KUBE-SVC-</c>, <c>KUBE-SVL-</c>, <c>KUBE-EXT-</c>, <c>KUBE-FW-</c>, <c>KUBE-SEP-</c> chain; the userspace mode's
/// <c>KUBE-PORTALS-*</c>, <c>KUBE-NODEPORT-*</c>), in one restore; nothing else is touched.
/// Returns the restore text, or null when there was nothing to remove.
/// </summary>
public static class IptablesCleanup
{
    public static async Task<string?> CleanupAsync(Linux.Iptables iptables, CancellationToken cancellationToken)
    {
        var save = await iptables.SaveAsync(null, cancellationToken);
        var text = Build(save);
        if (text is not null)
        {
            await iptables.RestoreAsync(text, cancellationToken);
        }
        return text;
    }

    internal static string? Build(string save)
    {
        var sb = new StringBuilder();
        foreach (var (table, fixedChains) in new[]
        {
            ("filter", ChainNames.FilterChains.Concat(ChainNames.UserspaceFilterChains).ToArray()),
            ("nat", ChainNames.NatChains.Concat(ChainNames.UserspaceNatChains).ToArray()),
        })
        {
            var lines = JumpRules.TableLines(save, table).ToList();
            var existing = Linux.Iptables.ChainsOf(save, table);
            var jumps = lines.Where(l => JumpRules.All.Concat(JumpRules.Userspace).Any(j => j.Table == table && j.Matches(l))).ToList();
            var chains = existing.Where(c => fixedChains.Contains(c) || ChainNames.IsHashed(c)).Order(StringComparer.Ordinal).ToList();
            if (jumps.Count == 0 && chains.Count == 0)
            {
                continue;
            }
            sb.Append('*').Append(table).Append('\n');
            foreach (var chain in chains)
            {
                sb.Append(':').Append(chain).Append(" - [0:0]\n");
            }
            foreach (var jump in jumps)
            {
                // The rule as iptables-save printed it, with -A turned into -D.
                sb.Append("-D").Append(jump.AsSpan(2)).Append('\n');
            }
            foreach (var chain in chains)
            {
                sb.Append("-X ").Append(chain).Append('\n');
            }
            sb.Append("COMMIT\n");
        }
        return sb.Length == 0 ? null : sb.ToString();
    }
}
