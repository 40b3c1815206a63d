using NodeAgent.Linux;
using NodeAgent.Proxy;
using NodeAgent.Proxy.Iptables;
using NodeAgent.Tests.Kubelet;
using NodeAgent.Tests.Support;
using static NodeAgent.Tests.Proxy.ProxyObjects;

namespace NodeAgent.Tests.Proxy;

/// <summary>
/// Which iptables the proxy programs, decided as kube-proxy's iptables-wrapper decides (kubelet's
/// KUBE-IPTABLES-HINT / KUBE-KUBELET-CANARY chains in nf_tables' mangle table, then anywhere in the legacy tables,
/// then whichever backend holds more rules, nft on a tie), with the real iptables-legacy and iptables-nft inside a
/// network namespace the test creates; legacy and nf_tables tables both belong to the namespace and go with it.
/// </summary>
public sealed class IptablesBackendTests : IDisposable
{
    private readonly ProxyNetns _ns = new();

    public void Dispose() => _ns.Dispose();

    private async Task RunAsync(string program, params string[] args)
    {
        var result = await new NodeCommand(_ns.Path).RunAsync(program, args, null, null, CancellationToken.None);
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', args)}: {result.Stderr}");
    }

    private Task<(IptablesBackend Backend, string Reason)> DetectAsync() =>
        IptablesBackendDetector.DetectAsync(new NodeCommand(_ns.Path), CancellationToken.None);

    private async Task<string> SaveAsync(string program) =>
        (await new NodeCommand(_ns.Path).RunAsync(program, [], null, null, CancellationToken.None)).Stdout;

    [PrivilegedFact]
    public async Task ANodeWithoutRulesIsNft()
    {
        var (backend, reason) = await DetectAsync();

        Assert.Equal(IptablesBackend.Nft, backend);
        Assert.Contains("no kubelet chains", reason);
    }

    [PrivilegedFact]
    public async Task KubeletsHintChainInTheLegacyTablesMeansLegacy()
    {
        // kubelet on a legacy node: its hint chain in the legacy mangle table; nf_tables has more rules (the wrapper
        // looks at the kubelet chains first).
        await RunAsync("iptables-legacy", "-t", "mangle", "-N", "KUBE-IPTABLES-HINT");
        await RunAsync("iptables-nft", "-A", "INPUT", "-s", "192.0.2.1/32", "-j", "ACCEPT");
        await RunAsync("iptables-nft", "-A", "INPUT", "-s", "192.0.2.2/32", "-j", "ACCEPT");

        var (backend, reason) = await DetectAsync();

        Assert.Equal(IptablesBackend.Legacy, backend);
        Assert.Equal("kubelet's chains are in the legacy tables", reason);
    }

    [PrivilegedFact]
    public async Task KubeletsCanaryInNfTablesManglesWinsOverLegacyChains()
    {
        await RunAsync("iptables-nft", "-t", "mangle", "-N", "KUBE-KUBELET-CANARY");
        await RunAsync("iptables-legacy", "-t", "mangle", "-N", "KUBE-IPTABLES-HINT");

        var (backend, reason) = await DetectAsync();

        Assert.Equal(IptablesBackend.Nft, backend);
        Assert.Equal("kubelet's chains are in the nf_tables mangle table", reason);
    }

    [PrivilegedFact]
    public async Task WithoutKubeletChainsTheBackendWithMoreRulesWins()
    {
        await RunAsync("iptables-legacy", "-A", "INPUT", "-s", "192.0.2.1/32", "-j", "ACCEPT");
        await RunAsync("iptables-legacy", "-A", "INPUT", "-s", "192.0.2.2/32", "-j", "ACCEPT");
        await RunAsync("iptables-nft", "-A", "INPUT", "-s", "192.0.2.3/32", "-j", "ACCEPT");

        var (legacy, legacyReason) = await DetectAsync();
        Assert.Equal(IptablesBackend.Legacy, legacy);
        Assert.Equal("no kubelet chains; legacy has more rules (2 against 1)", legacyReason);

        // A tie goes to nft, as the wrapper's "more rules in legacy" test leaves it.
        await RunAsync("iptables-nft", "-A", "INPUT", "-s", "192.0.2.4/32", "-j", "ACCEPT");
        var (nft, nftReason) = await DetectAsync();
        Assert.Equal(IptablesBackend.Nft, nft);
        Assert.Equal("no kubelet chains; nf_tables has as many rules or more (2 against 2)", nftReason);
    }

    [PrivilegedFact]
    public async Task TheProxyProgramsTheDetectedLegacyBackendAndOnlyIt()
    {
        await RunAsync("iptables-legacy", "-t", "mangle", "-N", "KUBE-KUBELET-CANARY");
        var log = new ListLogger<IptablesBackendTests>();
        var iptables = await ProxyHost.IptablesAsync(_ns.Path, null, log, CancellationToken.None);
        Assert.Equal(IptablesBackend.Legacy, iptables.Backend);
        Assert.Contains(log.Entries, e => e.Message.Contains("Using the legacy iptables backend (kubelet's chains are in the legacy tables)"));

        var proxier = new IptablesProxier(iptables, new IptablesSettings(), log);
        var states = new ProxyStates()
            .Add(Service("ns1", "svc1", "172.30.0.41", Port("p80", 80)))
            .Add(Slice("ns1", "svc1", "svc1-a", [SlicePort("p80", 80)], Ep("10.180.0.1"), Ep("10.180.0.2")));
        await proxier.SyncAsync(states.Next(), full: true, CancellationToken.None);
        // A partial sync (one endpoint gone) and a steady full sync, as the proxy runs them.
        await proxier.SyncAsync(states.Add(Slice("ns1", "svc1", "svc1-a", [SlicePort("p80", 80)], Ep("10.180.0.1"))).Next(), full: false, CancellationToken.None);
        await proxier.SyncAsync(states.Next(), full: true, CancellationToken.None);

        var legacy = await SaveAsync("iptables-legacy-save");
        var nft = await SaveAsync("iptables-nft-save");
        var svcChain = ChainNames.Service("ns1/svc1:p80", L4Protocol.Tcp);
        Assert.Contains($"-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp --dport 80 -j {svcChain}", legacy);
        Assert.Contains("--to-destination 10.180.0.1:80", legacy);
        Assert.DoesNotContain("10.180.0.2", legacy);
        Assert.Contains("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES", legacy);
        Assert.DoesNotContain("KUBE-", nft);

        // --cleanup in the same backend leaves only kubelet's canary.
        Assert.True(await ProxyHost.CleanupAsync(_ns.Path, null, CancellationToken.None));
        var after = await SaveAsync("iptables-legacy-save");
        Assert.Equal([":KUBE-KUBELET-CANARY"], after.Split('\n').Where(l => l.Contains("KUBE-")).Select(l => l.Split(' ')[0]));
    }

    [PrivilegedFact]
    public async Task AGivenBackendIsUsedWhateverTheNodeHas()
    {
        await RunAsync("iptables-legacy", "-t", "mangle", "-N", "KUBE-IPTABLES-HINT");
        var log = new ListLogger<IptablesBackendTests>();

        var iptables = await ProxyHost.IptablesAsync(_ns.Path, IptablesBackend.Nft, log, CancellationToken.None);

        Assert.Equal(IptablesBackend.Nft, iptables.Backend);
        Assert.Contains(log.Entries, e => e.Message.Contains("Using the nft iptables backend (--iptables-backend)"));
    }

    [Fact]
    public void TheToolsOfEachBackendAreNamedAsIptablesNamesThem()
    {
        Assert.Equal("iptables-nft-restore", IptablesBackendDetector.Command(IptablesBackend.Nft, "iptables-restore"));
        Assert.Equal("iptables-legacy-save", IptablesBackendDetector.Command(IptablesBackend.Legacy, "iptables-save"));
        Assert.Equal("ip6tables-legacy-save", IptablesBackendDetector.Command(IptablesBackend.Legacy, "ip6tables-save"));
        Assert.Equal("iptables-legacy", IptablesBackendDetector.Command(IptablesBackend.Legacy, "iptables"));
    }
}
