using k8s.Models;
using NodeAgent.Kube.Informers;
using NodeAgent.Linux;
using NodeAgent.Proxy;
using NodeAgent.Proxy.Iptables;
using NodeAgent.Tests.Kubelet;
using NodeAgent.Tests.Support;
using static NodeAgent.Tests.Proxy.ProxyObjects;

namespace NodeAgent.Tests.Proxy;

/// <summary>
/// The proxier's restores applied by the real iptables-restore, inside a network namespace the test creates (and
/// removes, with every rule in it, whatever happens).
/// </summary>
public sealed class IptablesNetnsTests : IDisposable
{
    private readonly ProxyNetns _ns = new();
    private readonly ListLogger<IptablesNetnsTests> _log = new();

    public void Dispose() => _ns.Dispose();

    private Task<string> SaveAsync() => _ns.SaveAsync();

    private static V1Service Web()
    {
        var svc = Service("ns1", "svc1", "172.30.0.41", Port("p80", 80, nodePort: 30080));
        svc.Spec.Type = "NodePort";
        return svc;
    }

    [PrivilegedFact]
    public async Task AFullSyncThenAPartialSyncAreAppliedByIptablesRestore()
    {
        var proxier = new IptablesProxier(_ns.Iptables, new IptablesSettings(), _log);
        var affinity = Service("ns1", "sticky", "172.30.0.43", Port("p", 8080));
        affinity.Spec.SessionAffinity = "ClientIP";
        var states = new ProxyStates()
            .Add(Web()).Add(Slice("ns1", "svc1", "svc1-a", [SlicePort("p80", 80)], Ep("10.180.0.1"), Ep("10.180.0.2")))
            .Add(affinity).Add(Slice("ns1", "sticky", "sticky-a", [SlicePort("p", 8080)], Ep("10.180.0.5")))
            .Add(Service("ns1", "empty", "172.30.0.44", Port("p", 80)))
            .Add(Service("ns1", "dns", "172.30.0.10", Port("dns", 53, "UDP"))).Add(Slice("ns1", "dns", "dns-a", [SlicePort("dns", 53, "UDP")], Ep("10.180.0.9")));

        await proxier.SyncAsync(states.Next(), full: true, CancellationToken.None);
        var save = await SaveAsync();

        var sep2 = ChainNames.Endpoint("ns1/svc1:p80", L4Protocol.Tcp, "10.180.0.2:80");
        Assert.Contains(":KUBE-SVC-XPGD46QRK7WJZT7O", save);
        Assert.Contains($":{sep2}", save);
        Assert.Contains("-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-SXIVWICOYRO3J4NJ", save);
        Assert.Contains("--to-destination 10.180.0.5:8080", save);
        Assert.Contains("-m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-", save);
        Assert.Contains("-A KUBE-SERVICES -d 172.30.0.44/32 -p tcp -m comment --comment \"ns1/empty:p has no endpoints\" -m tcp --dport 80 -j REJECT", save);
        Assert.Contains("-m udp --dport 53 -j KUBE-SVC-", save);
        Assert.Contains("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES", save);
        Assert.Contains("-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING", save);

        // The partial sync after an endpoint went: its chain is gone, the others are untouched.
        await proxier.SyncAsync(states.Add(Slice("ns1", "svc1", "svc1-a", [SlicePort("p80", 80)], Ep("10.180.0.1"))).Next(), full: false, CancellationToken.None);
        save = await SaveAsync();
        Assert.DoesNotContain(sep2, save);
        Assert.Contains("-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -j KUBE-SEP-SXIVWICOYRO3J4NJ", save);
        Assert.Contains("--to-destination 10.180.0.5:8080", save);

        // Another full sync does not add the jumps twice.
        await proxier.SyncAsync(states.Next(), full: true, CancellationToken.None);
        save = await SaveAsync();
        Assert.Single(save.Split('\n'), l => l.StartsWith("-A PREROUTING ", StringComparison.Ordinal) && l.EndsWith("-j KUBE-SERVICES", StringComparison.Ordinal));
        Assert.Single(save.Split('\n'), l => l.StartsWith("-A OUTPUT ", StringComparison.Ordinal) && l.Contains("-j KUBE-SERVICES") && l.Contains("ctstate NEW"));

        // Someone deletes two jumps: the next full sync (which now reads only the built-in chains) puts them back.
        await _ns.Iptables.RestoreAsync("*filter\n-D INPUT -m comment --comment \"kubernetes health check service ports\" -j KUBE-NODEPORTS\nCOMMIT\n" +
            "*nat\n-D PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\nCOMMIT\n", CancellationToken.None);
        Assert.DoesNotContain("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES", await SaveAsync());
        await proxier.SyncAsync(states.Next(), full: true, CancellationToken.None);
        save = await SaveAsync();
        Assert.Contains("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES", save);
        Assert.Contains("-A INPUT -m comment --comment \"kubernetes health check service ports\" -j KUBE-NODEPORTS", save);
        Assert.Contains("-A KUBE-SERVICES -d 172.30.0.44/32 -p tcp -m comment --comment \"ns1/empty:p has no endpoints\" -m tcp --dport 80 -j REJECT", save);
    }

    [PrivilegedFact]
    public async Task ARefusedRestoreNamesTheOffendingLineAndKeepsThePreviousRules()
    {
        var proxier = new IptablesProxier(_ns.Iptables, new IptablesSettings(), _log);
        var states = new ProxyStates().Add(Web()).Add(Slice("ns1", "svc1", "svc1-a", [SlicePort("p80", 80)], Ep("10.180.0.1")));
        await proxier.SyncAsync(states.Next(), full: true, CancellationToken.None);
        var before = await _ns.StableSaveAsync();

        // Refused while parsing (line 3), and refused only at COMMIT (nf_tables): both name the rule at fault.
        var badPort = "*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m tcp -p tcp --dport 99999 -j ACCEPT\nCOMMIT\n";
        var ex = await Assert.ThrowsAsync<IptablesRestoreException>(() => _ns.Iptables.RestoreAsync(badPort, CancellationToken.None));
        Assert.Equal(3, ex.Line);
        Assert.Equal("-A KUBE-SERVICES -m tcp -p tcp --dport 99999 -j ACCEPT", ex.OffendingLine);

        var badJump = "*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j KUBE-NO-SUCH-CHAIN\n-A KUBE-SERVICES -j RETURN\nCOMMIT\n";
        ex = await Assert.ThrowsAsync<IptablesRestoreException>(() => _ns.Iptables.RestoreAsync(badJump, CancellationToken.None));
        Assert.Equal(3, ex.Line);
        Assert.Equal("-A KUBE-SERVICES -j KUBE-NO-SUCH-CHAIN", ex.OffendingLine);
        Assert.Contains("line 3: -A KUBE-SERVICES -j KUBE-NO-SUCH-CHAIN", ex.Message);

        Assert.Equal(before, await _ns.StableSaveAsync());
    }

    [PrivilegedFact]
    public async Task AHostileServiceIsSkippedWithALogLineWhileTheRestSync()
    {
        var proxier = new IptablesProxier(_ns.Iptables, new IptablesSettings(), _log);
        await using var proxy = new ServiceProxy(proxier, new ProxyOptions { NodeName = "node-a", MinSyncPeriod = TimeSpan.Zero }, _log);
        IInformerHandler<V1Service> services = proxy;
        IInformerHandler<V1EndpointSlice> slices = proxy;
        var skipped = new List<string>();
        proxy.ServiceSkipped += (svc, reason) => skipped.Add(reason);

        var hostile = Service("ns1", "evil", "172.30.0.66", Port("p", 80));
        hostile.Spec.ExternalIPs = ["1.2.3.4 -j ACCEPT"];
        var sctp = Service("ns1", "sctp", "172.30.0.67", Port("p", 80, "SCTP"));
        services.OnAdd(hostile);
        services.OnAdd(sctp);
        services.OnAdd(Web());
        slices.OnAdd(Slice("ns1", "evil", "evil-a", [SlicePort("p", 80)], Ep("10.180.0.66")));
        slices.OnAdd(Slice("ns1", "svc1", "svc1-a", [SlicePort("p80", 80)], Ep("10.180.0.1")));
        var synced = proxy.WaitForSyncAsync();
        proxy.OnServicesSynced();
        proxy.OnEndpointSlicesSynced();
        await synced.WaitAsync(TimeSpan.FromSeconds(60));

        var save = await SaveAsync();
        Assert.Contains("-j KUBE-SVC-XPGD46QRK7WJZT7O", save);
        Assert.DoesNotContain("172.30.0.66", save);
        Assert.DoesNotContain("172.30.0.67", save);
        Assert.DoesNotContain("1.2.3.4", save);
        Assert.Equal(2, skipped.Count);
        Assert.Contains(_log.Entries, e => e.Message.Contains("ns1/evil") && e.Message.Contains("spec.externalIPs"));
        Assert.Contains(_log.Entries, e => e.Message.Contains("ns1/sctp") && e.Message.Contains("SCTP"));
    }
}
