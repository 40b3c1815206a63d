using NodeAgent.Linux;
using NodeAgent.Proxy;
using NodeAgent.Proxy.Iptables;
using NodeAgent.Tests.Kubelet;
using static NodeAgent.Tests.Proxy.ProxyObjects;

namespace NodeAgent.Tests.Proxy;

public class ServiceExplainerTests
{
    [Fact]
    public void AServiceWithTwoEndpointsIsExplainedWithItsEndpointsItsPacketsAndItsRules()
    {
        var web = Service("ns1", "web", "172.30.0.41", Port("http", 80, nodePort: 30080));
        web.Spec.Type = "NodePort";
        web.Spec.SessionAffinity = "ClientIP";
        var slice = Slice("ns1", "web", "web-a", [SlicePort("http", 8080)], Ep("10.180.0.1", node: "node-a"), Ep("10.180.0.2", ready: false, serving: true, terminating: true, node: "node-b"), Ep("10.180.0.3", node: "node-b"));
        var other = Service("ns1", "other", "172.30.0.42", Port("http", 80));
        var proxier = new IptablesProxier(new NodeAgent.Linux.Iptables(new NodeCommand(null), IptablesBackend.Nft), new IptablesSettings(), new ListLogger<ServiceExplainerTests>());
        var rules = proxier.Build(new ProxyStates().Add(web).Add(slice).Add(other).Next(), full: true, save: null).Text;

        var text = ServiceExplainer.Explain(web, [slice], rules, "node-a");

        Assert.StartsWith("Service ns1/web (type NodePort, cluster IP 172.30.0.41)\n", text);
        Assert.Contains("    10.180.0.1:8080 ready, on this node\n", text);
        Assert.Contains("    10.180.0.2:8080 not ready, serving, terminating\n", text);
        Assert.Contains("A packet to 172.30.0.41:80 goes to one of 2 endpoint(s), each with probability 1/2: 10.180.0.1:8080, 10.180.0.3:8080.", text);
        Assert.Contains("for 10800 s after its last packet (ClientIP affinity)", text);
        Assert.Contains("A packet to node port 30080 goes to any of the endpoints above, masqueraded", text);
        Assert.Contains("    -A KUBE-SERVICES -m comment --comment \"ns1/web:http cluster IP\" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-", text);
        Assert.Contains("-j DNAT --to-destination 10.180.0.3:8080", text);
        Assert.DoesNotContain("172.30.0.42", text);
    }

    [Fact]
    public void AServiceWithoutEndpointsIsExplainedAsRejected()
    {
        var svc = Service("ns1", "empty", "172.30.0.44", Port("http", 80));
        var text = ServiceExplainer.Explain(svc, [], "", "node-a");
        Assert.Contains("is rejected at once (ICMP port unreachable)", text);
        Assert.Contains("none (the proxy has not programmed it", text);
    }
}
