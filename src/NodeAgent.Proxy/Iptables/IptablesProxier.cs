using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using NodeAgent.Linux;

namespace NodeAgent.Proxy.Iptables;

/// <summary>
/// The iptables proxy mode: each sync is one <c>iptables-restore --noflush</c> of the filter and nat tables. A full
/// sync rewrites every chain of ours. A partial sync rewrites the per-service chains of the services that changed,
/// and the fixed chains (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-EXTERNAL-SERVICES, KUBE-FORWARD, KUBE-PROXY-FIREWALL,
/// KUBE-POSTROUTING, KUBE-MARK-MASQ) of a table only when their text differs from what was last committed (a chain
/// not declared in the restore keeps its rules), so an endpoint change does not rewrite thousands of KUBE-SERVICES
/// rules. Chains no longer used are flushed and deleted in the same restore. The first full sync, and the first
/// after any failure, reads iptables-save, to add missing jumps from the built-in chains and to find stale chains of
/// ours left by an earlier run; later full syncs know their chains and read only the built-in chains' rules
/// (<c>iptables -S CHAIN</c>) to restore missing jumps, and with the legacy backend not even that while the tables'
/// entry counts and sizes are as our last restore left them; a partial sync reads nothing. A refused restore leaves the
/// previous rules and throws, naming the offending line.
/// </summary>
public sealed partial class IptablesProxier(Linux.Iptables iptables, IptablesSettings settings, ILogger logger) : IProxyBackend
{
    public const string MasqueradeMark = "0x4000";

    private readonly ChainNameCache _names = new();
    private HashSet<string> _activeNatChains = new(StringComparer.Ordinal);
    private bool _knowsNode;
    // The fixed part of each table as the node has it, and as the last Build made it.
    private string? _lastFilter, _lastNatFixed, _builtFilter, _builtNatFixed;
    // Legacy backend: the tables' entry counts and sizes after our last restore (null: not known or nf_tables).
    private string? _stamp;

    /// <summary>Where the rule counts of each restore go (<c>kubeproxy_sync_proxy_rules_iptables_total</c>).</summary>
    public ProxyMetrics? Metrics { get; init; }

    /// <summary>The text of the last restore (for tests and <c>explain</c>).</summary>
    public string? LastRestore { get; private set; }

    public async Task SyncAsync(ProxyState state, bool full, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            string? save = !full ? null
                : !_knowsNode ? await iptables.SaveAsync(null, cancellationToken)
                : _stamp is not null && _stamp == Stamp() ? null
                : await BuiltinChainsAsync(cancellationToken);
            var (text, active) = Build(state, full, save);
            await iptables.RestoreAsync(text, cancellationToken);
            Committed(text, active, full);
            _knowsNode |= full;
            _stamp = Stamp();
        }
        catch
        {
            // The node's rules are not known any more: the next full sync reads all of them.
            _knowsNode = false;
            _stamp = null;
            throw;
        }
        if (state.RemovedEndpoints.Count > 0)
        {
            await FlushUdpFlowsAsync(state.RemovedEndpoints);
        }
        Log.Synced(logger, full ? "full" : "partial", state.Services.Count, full ? state.Services.Count : state.Changed.Count,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>
    /// With the legacy backend, every read of a table (even <c>iptables -S CHAIN</c>) parses the whole table, as long
    /// as the restore itself: the tables' entry counts and sizes (<see cref="IptablesStamp"/>) tell a steady full
    /// sync whether anyone changed them since our last restore; unchanged, our jumps are where we put them and
    /// nothing is read. nf_tables reads one chain cheaply: no stamp (null).
    /// </summary>
    private string? Stamp() =>
        iptables.Backend == IptablesBackend.Legacy ? IptablesStamp.Read(iptables.Node.NodeNetns, ["filter", "nat"]) : null;

    /// <summary>
    /// The rules of the built-in chains our jumps live in, as an iptables-save text (<c>iptables -S CHAIN</c> reads
    /// only that chain, where iptables-save reads every rule of ours as well). Enough for a full sync once the
    /// proxier has read the whole ruleset: it knows its own chains, and only needs to see that its jumps are there.
    /// </summary>
    private async Task<string> BuiltinChainsAsync(CancellationToken cancellationToken)
    {
        var sb = new StringBuilder();
        foreach (var table in new[] { "filter", "nat" })
        {
            sb.Append('*').Append(table).Append('\n');
            foreach (var chain in JumpRules.All.Where(j => j.Table == table).Select(j => j.Chain).Distinct())
            {
                sb.Append(await iptables.ListChainAsync(table, chain, cancellationToken));
            }
            sb.Append("COMMIT\n");
        }
        return sb.ToString();
    }

    /// <summary>The restore text for <paramref name="state"/>, and the nat chains it leaves in use.
    /// <paramref name="save"/> is the current ruleset (full syncs), or null.</summary>
    internal (string Text, HashSet<string> Active) Build(ProxyState state, bool full, string? save)
    {
        var rules = new ServiceRules(settings, _names);
        var output = new ServiceRules.Output();
        foreach (var (name, svc) in state.Services.OrderBy(s => s.Key.ToString(), StringComparer.Ordinal))
        {
            var write = full || state.Changed.Contains(name.Service);
            rules.Write(svc, state.EndpointsOf(name), output, write);
        }

        var filter = new StringBuilder(output.FilterRules.Length + 1024);
        filter.Append(output.FilterRules);
        filter.Append($"-A {ChainNames.Forward} -m conntrack --ctstate INVALID -j DROP\n");
        filter.Append($"-A {ChainNames.Forward} -m comment --comment \"kubernetes forwarding rules\" -m mark --mark {MasqueradeMark}/{MasqueradeMark} -j ACCEPT\n");
        filter.Append($"-A {ChainNames.Forward} -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");

        var natFixed = new StringBuilder(output.NatEntry.Length + 1024);
        natFixed.Append($"-A {ChainNames.Postrouting} -m mark ! --mark {MasqueradeMark}/{MasqueradeMark} -j RETURN\n");
        natFixed.Append($"-A {ChainNames.Postrouting} -j MARK --xor-mark {MasqueradeMark}\n");
        natFixed.Append($"-A {ChainNames.Postrouting} -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE\n");
        natFixed.Append($"-A {ChainNames.MarkMasq} -j MARK --or-mark {MasqueradeMark}\n");
        natFixed.Append(output.NatEntry);
        const string last = "\"kubernetes service nodeports; NOTE: this must be the last rule in this chain\"";
        if (settings.NodePortAddresses is null)
        {
            natFixed.Append($"-A {ChainNames.Services} -m comment --comment {last} -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j {ChainNames.NodePorts}\n");
        }
        else
        {
            foreach (var ip in settings.NodePortAddresses.Where(ip => !System.Net.IPAddress.IsLoopback(ip)))
            {
                natFixed.Append($"-A {ChainNames.Services} -m comment --comment {last} -d {ip} -j {ChainNames.NodePorts}\n");
            }
        }
        var filterText = filter.ToString();
        var natFixedText = natFixed.ToString();
        // A partial sync leaves out a fixed part that is as the node has it (undeclared chains keep their rules):
        // with only endpoints changed, KUBE-SERVICES' thousands of rules are not rewritten.
        var writeFilter = full || filterText != _lastFilter;
        var writeNatFixed = full || natFixedText != _lastNatFixed;

        var sb = new StringBuilder(filterText.Length + natFixedText.Length + output.NatRules.Length + output.NatChains.Length + 4096);
        if (writeFilter)
        {
            sb.Append("*filter\n");
            foreach (var chain in ChainNames.FilterChains)
            {
                sb.Append(':').Append(chain).Append(" - [0:0]\n");
            }
            JumpRules.AppendMissing(sb, save, "filter", JumpRules.All);
            sb.Append(filterText);
            sb.Append("COMMIT\n");
        }

        sb.Append("*nat\n");
        if (writeNatFixed)
        {
            foreach (var chain in ChainNames.NatChains)
            {
                sb.Append(':').Append(chain).Append(" - [0:0]\n");
            }
        }
        sb.Append(output.NatChains);
        var stale = new HashSet<string>(_activeNatChains, StringComparer.Ordinal);
        if (save is not null)
        {
            stale.UnionWith(Linux.Iptables.ChainsOf(save, "nat").Where(ChainNames.IsHashed));
        }
        stale.ExceptWith(output.ActiveNatChains);
        foreach (var chain in stale.Order(StringComparer.Ordinal))
        {
            // Declaring flushes it; then it can go.
            sb.Append(':').Append(chain).Append(" - [0:0]\n");
        }
        JumpRules.AppendMissing(sb, save, "nat", JumpRules.All);
        if (writeNatFixed)
        {
            sb.Append(natFixedText);
        }
        sb.Append(output.NatRules);
        foreach (var chain in stale.Order(StringComparer.Ordinal))
        {
            sb.Append("-X ").Append(chain).Append('\n');
        }
        sb.Append("COMMIT\n");
        (_builtFilter, _builtNatFixed) = (filterText, natFixedText);
        return (sb.ToString(), output.ActiveNatChains);
    }

    /// <summary>The restore of <see cref="Build"/>'s text succeeded: its chains are now the node's.</summary>
    internal void Committed(string text, HashSet<string> active, bool full)
    {
        _activeNatChains = active;
        LastRestore = text;
        (_lastFilter, _lastNatFixed) = (_builtFilter, _builtNatFixed);
        if (Metrics is not null)
        {
            var nat = text.IndexOf("*nat\n", StringComparison.Ordinal);
            if (nat > 0)
            {
                Metrics.Rules("filter", CountRules(text.AsSpan(0, nat)));
            }
            Metrics.Rules("nat", CountRules(text.AsSpan(nat)));
        }
        if (full)
        {
            _names.Retain();
        }
    }

    /// <summary>
    /// UDP has no connection to end: a flow DNATed to an endpoint that went away would keep going there (kube-proxy's
    /// conntrack cleanup). Deletes the UDP entries whose reply comes from a removed endpoint through a NAT (the
    /// original destination is not the endpoint itself), through ctnetlink. A failure is logged; the rules stand.
    /// </summary>
    private async Task FlushUdpFlowsAsync(IReadOnlyList<(ServicePortName Port, Endpoint Endpoint)> removed)
    {
        var gone = removed.Select(r => (r.Endpoint.Address, r.Endpoint.Port)).ToHashSet();
        try
        {
            var count = await Task.Run(() => Conntrack.Delete(iptables.Node.NodeNetns, f =>
                f.Protocol == Conntrack.Udp && gone.Contains((f.ReplySource, f.ReplySourcePort)) &&
                !(f.OrigDestination.Equals(f.ReplySource) && f.OrigDestinationPort == f.ReplySourcePort)));
            if (count > 0)
            {
                Log.FlowsFlushed(logger, count, string.Join(", ", gone.Select(g => $"{g.Address}:{g.Port}")));
            }
        }
        catch (Exception ex) when (ex is LinuxException or IOException)
        {
            Log.FlushFailed(logger, ex);
        }
    }

    private static int CountRules(ReadOnlySpan<char> text)
    {
        var count = 0;
        foreach (var line in text.EnumerateLines())
        {
            if (line.StartsWith("-A "))
            {
                count++;
            }
        }
        return count;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} UDP conntrack entries of removed endpoints {Endpoints}")]
        public static partial void FlowsFlushed(ILogger logger, int count, string endpoints);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete the conntrack entries of removed UDP endpoints")]
        public static partial void FlushFailed(ILogger logger, Exception exception);

        [LoggerMessage(Level = LogLevel.Information, Message = "iptables {Kind} sync: {Services} service ports, {Written} written, {Milliseconds:F1} ms")]
        public static partial void Synced(ILogger logger, string kind, int services, int written, double milliseconds);
    }
}
