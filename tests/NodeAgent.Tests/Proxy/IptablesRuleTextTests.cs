using System.Net;
using k8s.Models;
using NodeAgent.Linux;
using NodeAgent.Proxy;
using NodeAgent.Proxy.Iptables;
using NodeAgent.Tests.Kubelet;
using static NodeAgent.Tests.Proxy.ProxyObjects;

namespace NodeAgent.Tests.Proxy;

/// <summary>The restore text for each feature, line by line as kube-proxy writes it.</summary>
public class IptablesRuleTextTests
{
    private const string Svc1 = "KUBE-SVC-XPGD46QRK7WJZT7O", Ext1 = "KUBE-EXT-XPGD46QRK7WJZT7O", Svl1 = "KUBE-SVL-XPGD46QRK7WJZT7O";

    private readonly ListLogger<IptablesRuleTextTests> _log = new();

    private IptablesProxier Proxier(IptablesSettings? settings = null) =>
        new(new NodeAgent.Linux.Iptables(new NodeCommand(null), IptablesBackend.Nft), settings ?? new IptablesSettings(), _log);

    private static string Sep(string ep, string svc = "ns1/svc1:p80", L4Protocol p = L4Protocol.Tcp) => ChainNames.Endpoint(svc, p, ep);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static V1Service Svc1Of(Action<V1Service>? change = null)
    {
        var svc = Service("ns1", "svc1", "172.30.0.41", Port("p80", 80));
        change?.Invoke(svc);
        return svc;
    }

    private static V1EndpointSlice Eps(params V1Endpoint[] endpoints) => Slice("ns1", "svc1", "svc1-a", [SlicePort("p80", 80)], endpoints);

    private string FullText(ProxyStates states, IptablesSettings? settings = null) => Proxier(settings).Build(states.Next(), full: true, save: null).Text;

    [Fact]
    public void AClusterIPIsSpreadOverItsEndpointsWithProbabilitiesOneOverNMinusI()
    {
        var text = FullText(new ProxyStates().Add(Svc1Of()).Add(Eps(Ep("10.180.0.1"), Ep("10.180.0.2"), Ep("10.180.0.3"))));
        var lines = Lines(text);

        Assert.Contains($"-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j {Svc1}", lines);
        Assert.Contains($":{Svc1} - [0:0]", lines);
        Assert.Equal(
        [
            $"-A {Svc1} -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -m statistic --mode random --probability 0.3333333333 -j {Sep("10.180.0.1:80")}",
            $"-A {Svc1} -m comment --comment \"ns1/svc1:p80 -> 10.180.0.2:80\" -m statistic --mode random --probability 0.5000000000 -j {Sep("10.180.0.2:80")}",
            $"-A {Svc1} -m comment --comment \"ns1/svc1:p80 -> 10.180.0.3:80\" -j {Sep("10.180.0.3:80")}",
        ], lines.Where(l => l.StartsWith($"-A {Svc1} ", StringComparison.Ordinal)));
        Assert.Equal("KUBE-SEP-SXIVWICOYRO3J4NJ", Sep("10.180.0.1:80"));
        Assert.Contains("-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ", lines);
        Assert.Contains("-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80", lines);
    }

    [Fact]
    public void TheFixedChainsAreWrittenAsKubeProxyWritesThem()
    {
        var lines = Lines(FullText(new ProxyStates()));
        Assert.Equal("*filter", lines[0]);
        Assert.Contains("-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN", lines);
        Assert.Contains("-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000", lines);
        Assert.Contains("-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE", lines);
        Assert.Contains("-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000", lines);
        Assert.Contains("-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT", lines);
        Assert.Equal("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS",
            lines.Last(l => l.StartsWith("-A KUBE-SERVICES ", StringComparison.Ordinal)));
        Assert.Equal(2, lines.Count(l => l == "COMMIT"));
    }

    [Fact]
    public void ClientIPAffinityChecksRecentBeforeSpreadingAndSetsItInTheEndpointChain()
    {
        var svc = Svc1Of(s =>
        {
            s.Spec.SessionAffinity = "ClientIP";
            s.Spec.SessionAffinityConfig = new V1SessionAffinityConfig { ClientIP = new V1ClientIPConfig { TimeoutSeconds = 600 } };
        });
        var lines = Lines(FullText(new ProxyStates().Add(svc).Add(Eps(Ep("10.180.0.1"), Ep("10.180.0.2")))));
        var sep1 = Sep("10.180.0.1:80");

        var svcRules = lines.Where(l => l.StartsWith($"-A {Svc1} ", StringComparison.Ordinal)).ToList();
        Assert.Equal($"-A {Svc1} -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -m recent --name {sep1} --rcheck --seconds 600 --reap -j {sep1}", svcRules[0]);
        Assert.Contains("--probability 0.5000000000", svcRules[2]);
        Assert.Contains($"-A {sep1} -m comment --comment ns1/svc1:p80 -m recent --name {sep1} --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80", lines);
    }

    [Fact]
    public void AServiceWithoutEndpointsIsRejectedInTheFilterTableAndHasNoNatChains()
    {
        var svc = Svc1Of(s => { s.Spec.Type = "NodePort"; s.Spec.Ports[0].NodePort = 30080; });
        var text = FullText(new ProxyStates().Add(svc).Add(Eps(Ep("10.180.0.1", ready: false))));
        var lines = Lines(text);

        Assert.Contains("-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 has no endpoints\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j REJECT", lines);
        Assert.Contains("-A KUBE-EXTERNAL-SERVICES -m comment --comment \"ns1/svc1:p80 has no endpoints\" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j REJECT", lines);
        Assert.DoesNotContain(Svc1, text);
        Assert.DoesNotContain(Ext1, text);
    }

    [Fact]
    public void ReadyEndpointsComeFirstAndServingTerminatingOnesOnlyWhenNoneIsReady()
    {
        var states = new ProxyStates().Add(Svc1Of())
            .Add(Eps(Ep("10.180.0.1"), Ep("10.180.0.2", ready: false, serving: true, terminating: true), Ep("10.180.0.3", ready: false)));
        var text = FullText(states);
        Assert.Contains("--to-destination 10.180.0.1:80", text);
        Assert.DoesNotContain("10.180.0.2", text);
        Assert.DoesNotContain("10.180.0.3", text);

        var terminatingOnly = FullText(new ProxyStates().Add(Svc1Of())
            .Add(Eps(Ep("10.180.0.2", ready: false, serving: true, terminating: true), Ep("10.180.0.3", ready: false, serving: false, terminating: true))));
        Assert.Contains("--to-destination 10.180.0.2:80", terminatingOnly);
        Assert.DoesNotContain("10.180.0.3", terminatingOnly);
    }

    [Fact]
    public void ANodePortGoesThroughTheExternalChainWhichMasquerades()
    {
        var svc = Svc1Of(s => { s.Spec.Type = "NodePort"; s.Spec.Ports[0].NodePort = 30080; });
        var lines = Lines(FullText(new ProxyStates().Add(svc).Add(Eps(Ep("10.180.0.1")))));

        Assert.Contains($"-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 30080 -j {Ext1}", lines);
        Assert.Equal(
        [
            $"-A {Ext1} -m comment --comment \"masquerade traffic for ns1/svc1:p80 external destinations\" -j KUBE-MARK-MASQ",
            $"-A {Ext1} -j {Svc1}",
        ], lines.Where(l => l.StartsWith($"-A {Ext1} ", StringComparison.Ordinal)));
    }

    [Fact]
    public void ExternalTrafficPolicyLocalKeepsTheSourceAndUsesOnlyLocalEndpoints()
    {
        var svc = Svc1Of(s => { s.Spec.Type = "NodePort"; s.Spec.Ports[0].NodePort = 30080; s.Spec.ExternalTrafficPolicy = "Local"; });
        var lines = Lines(FullText(new ProxyStates().Add(svc).Add(Eps(Ep("10.180.0.1", node: "node-a"), Ep("10.180.0.2", node: "node-b"))),
            new IptablesSettings { ClusterCidr = (IPAddress.Parse("10.0.0.0"), 8) }));

        Assert.Equal(
        [
            $"-A {Ext1} -m comment --comment \"pod traffic for ns1/svc1:p80 external destinations\" -s 10.0.0.0/8 -j {Svc1}",
            $"-A {Ext1} -m comment --comment \"masquerade LOCAL traffic for ns1/svc1:p80 external destinations\" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ",
            $"-A {Ext1} -m comment --comment \"route LOCAL traffic for ns1/svc1:p80 external destinations\" -m addrtype --src-type LOCAL -j {Svc1}",
            $"-A {Ext1} -j {Svl1}",
        ], lines.Where(l => l.StartsWith($"-A {Ext1} ", StringComparison.Ordinal)));
        Assert.Equal([$"-A {Svl1} -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -j {Sep("10.180.0.1:80")}"],
            lines.Where(l => l.StartsWith($"-A {Svl1} ", StringComparison.Ordinal)));
        // Cluster traffic still reaches both.
        Assert.Equal(2, lines.Count(l => l.StartsWith($"-A {Svc1} ", StringComparison.Ordinal) && l.Contains("-j KUBE-SEP-")));
        Assert.Contains($"-A {Svc1} -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ", lines);
    }

    [Fact]
    public void ExternalTrafficPolicyLocalWithoutLocalEndpointsDropsExternalTraffic()
    {
        var svc = Svc1Of(s => { s.Spec.Type = "NodePort"; s.Spec.Ports[0].NodePort = 30080; s.Spec.ExternalTrafficPolicy = "Local"; });
        var lines = Lines(FullText(new ProxyStates().Add(svc).Add(Eps(Ep("10.180.0.2", node: "node-b")))));

        Assert.Contains("-A KUBE-EXTERNAL-SERVICES -m comment --comment \"ns1/svc1:p80 has no local endpoints\" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j DROP", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith($"-A {Ext1} -j ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 cluster IP\"", StringComparison.Ordinal) && l.EndsWith($"-j {Svc1}", StringComparison.Ordinal));
    }

    [Fact]
    public void InternalTrafficPolicyLocalSendsClusterTrafficToLocalEndpointsOrDropsIt()
    {
        var svc = Svc1Of(s => s.Spec.InternalTrafficPolicy = "Local");
        var local = Lines(FullText(new ProxyStates().Add(svc).Add(Eps(Ep("10.180.0.1", node: "node-a"), Ep("10.180.0.2", node: "node-b")))));
        Assert.Contains($"-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j {Svl1}", local);
        Assert.DoesNotContain(local, l => l.Contains("10.180.0.2"));

        var none = Lines(FullText(new ProxyStates().Add(svc).Add(Eps(Ep("10.180.0.2", node: "node-b")))));
        Assert.Contains("-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 has no local endpoints\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j DROP", none);
    }

    [Fact]
    public void MasqueradeAllMarksEveryClusterIPPacket()
    {
        var lines = Lines(FullText(new ProxyStates().Add(Svc1Of()).Add(Eps(Ep("10.180.0.1"))), new IptablesSettings { MasqueradeAll = true }));
        Assert.Contains($"-A {Svc1} -m comment --comment \"ns1/svc1:p80 cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-MARK-MASQ", lines);
    }

    [Fact]
    public void UdpServicesUseTheUdpMatchAndTheirOwnChainNames()
    {
        var svc = Service("kube-system", "dns", "10.96.0.10", Port("dns", 53, "UDP"));
        var slice = Slice("kube-system", "dns", "dns-a", [SlicePort("dns", 5353, "UDP")], Ep("10.1.0.5"));
        var lines = Lines(FullText(new ProxyStates().Add(svc).Add(slice)));
        var chain = ChainNames.Service("kube-system/dns:dns", L4Protocol.Udp);
        Assert.Contains($"-A KUBE-SERVICES -m comment --comment \"kube-system/dns:dns cluster IP\" -m udp -p udp -d 10.96.0.10 --dport 53 -j {chain}", lines);
        Assert.Contains(lines, l => l.EndsWith("-m udp -p udp -j DNAT --to-destination 10.1.0.5:5353", StringComparison.Ordinal));
    }

    [Fact]
    public void ExternalIPsAndLoadBalancerSourceRangesGoThroughTheirChains()
    {
        var svc = Svc1Of(s =>
        {
            s.Spec.Type = "LoadBalancer";
            s.Spec.Ports[0].NodePort = 30080;
            s.Spec.ExternalIPs = ["192.0.2.10"];
            s.Spec.LoadBalancerSourceRanges = ["203.0.113.0/24"];
            s.Status = new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus { Ingress = [new V1LoadBalancerIngress { Ip = "198.51.100.7" }] } };
        });
        var lines = Lines(FullText(new ProxyStates().Add(svc).Add(Eps(Ep("10.180.0.1")))));
        var fw = ChainNames.Firewall("ns1/svc1:p80", L4Protocol.Tcp);
        Assert.Contains($"-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 external IP\" -m tcp -p tcp -d 192.0.2.10 --dport 80 -j {Ext1}", lines);
        Assert.Contains($"-A KUBE-SERVICES -m comment --comment \"ns1/svc1:p80 loadbalancer IP\" -m tcp -p tcp -d 198.51.100.7 --dport 80 -j {fw}", lines);
        Assert.Contains($"-A {fw} -m comment --comment \"ns1/svc1:p80 loadbalancer IP\" -s 203.0.113.0/24 -j {Ext1}", lines);
        Assert.Contains($"-A KUBE-PROXY-FIREWALL -m comment --comment \"ns1/svc1:p80 traffic not accepted by {fw}\" -m tcp -p tcp -d 198.51.100.7 --dport 80 -j DROP", lines);
    }

    [Fact]
    public void APartialSyncRewritesOnlyTheChangedServicesChainsAndDeletesStaleOnes()
    {
        var states = new ProxyStates().Add(Svc1Of()).Add(Eps(Ep("10.180.0.1"), Ep("10.180.0.2")))
            .Add(Service("ns2", "svc2", "172.30.0.42", Port("p80", 80))).Add(Slice("ns2", "svc2", "svc2-a", [SlicePort("p80", 80)], Ep("10.180.1.1")));
        var proxier = Proxier();
        var (first, active) = proxier.Build(states.Next(), full: true, save: null);
        proxier.Committed(first, active, full: true);

        // svc1 loses an endpoint; svc2 is untouched.
        var text = proxier.Build(states.Add(Eps(Ep("10.180.0.1"))).Next(), full: false, save: null).Text;
        var svc2 = ChainNames.Service("ns2/svc2:p80", L4Protocol.Tcp);

        Assert.Contains($":{Svc1} - [0:0]", text);
        Assert.DoesNotContain($":{svc2} - [0:0]", text);
        // The fixed chains are as the node has them: neither declared (flushed) nor rewritten.
        Assert.DoesNotContain(":KUBE-SERVICES", text);
        Assert.DoesNotContain($"-j {svc2}", text);
        Assert.DoesNotContain("*filter", text);
        var gone = Sep("10.180.0.2:80");
        Assert.Contains($":{gone} - [0:0]\n", text);
        Assert.EndsWith($"-X {gone}\nCOMMIT\n", text);
    }

    [Fact]
    public void APartialSyncRewritesAFixedChainWholeWhenAServicesEntryInItChanged()
    {
        var states = new ProxyStates().Add(Svc1Of()).Add(Eps(Ep("10.180.0.1")))
            .Add(Service("ns2", "svc2", "172.30.0.42", Port("p80", 80))).Add(Slice("ns2", "svc2", "svc2-a", [SlicePort("p80", 80)], Ep("10.180.1.1")));
        var proxier = Proxier();
        var (first, active) = proxier.Build(states.Next(), full: true, save: null);
        proxier.Committed(first, active, full: true);
        var svc2 = ChainNames.Service("ns2/svc2:p80", L4Protocol.Tcp);

        // A new service: its entry joins KUBE-SERVICES, which is rewritten with every entry; filter is unchanged.
        var (added, addedActive) = proxier.Build(states.Add(Service("ns3", "svc3", "172.30.0.43", Port("p80", 80)))
            .Add(Slice("ns3", "svc3", "svc3-a", [SlicePort("p80", 80)], Ep("10.180.2.1"))).Next(), full: false, save: null);
        proxier.Committed(added, addedActive, full: false);
        Assert.Contains(":KUBE-SERVICES - [0:0]", added);
        Assert.Contains($"-d 172.30.0.42 --dport 80 -j {svc2}", added);
        Assert.Contains($"-j {ChainNames.Service("ns3/svc3:p80", L4Protocol.Tcp)}", added);
        Assert.DoesNotContain("*filter", added);

        // svc2 loses its endpoints: its REJECT goes into the filter table, written whole.
        var rejected = proxier.Build(states.Add(Slice("ns2", "svc2", "svc2-a", [SlicePort("p80", 80)])).Next(), full: false, save: null).Text;
        Assert.Contains("*filter\n:KUBE-SERVICES - [0:0]", rejected);
        Assert.Contains("-d 172.30.0.42 --dport 80 -j REJECT", rejected);
        Assert.Contains("-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP", rejected);
    }

    [Fact]
    public void AFullSyncAddsTheJumpsFromTheBuiltInChainsOnlyWhenMissing()
    {
        var proxier = Proxier();
        var empty = Lines(proxier.Build(new ProxyStates().Next(), full: true, save: "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n").Text);
        Assert.Contains("-I PREROUTING 1 -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES", empty);
        Assert.Contains("-I INPUT 1 -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES", empty);
        Assert.Equal(12, empty.Count(l => l.StartsWith("-I ", StringComparison.Ordinal)));

        var save = "*nat\n-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n" +
            ":KUBE-SEP-OLDOLDOLDOLDOLDO - [0:0]\n:OTHER-CHAIN - [0:0]\nCOMMIT\n";
        var text = proxier.Build(new ProxyStates().Next(), full: true, save).Text;
        Assert.DoesNotContain("-I PREROUTING", text);
        Assert.Contains("-I OUTPUT 1 -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES", text);
        // A stale chain of ours from an earlier run goes; a chain of someone else stays.
        Assert.Contains("-X KUBE-SEP-OLDOLDOLDOLDOLDO", text);
        Assert.DoesNotContain("OTHER-CHAIN", text);
    }
}
