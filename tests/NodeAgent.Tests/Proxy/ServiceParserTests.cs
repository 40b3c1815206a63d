using System.Net;
using k8s.Models;
using NodeAgent.Proxy;
using static NodeAgent.Tests.Proxy.ProxyObjects;

namespace NodeAgent.Tests.Proxy;

public class ServiceParserTests
{
    [Fact]
    public void AClusterIPServiceGivesOnePortEachWithParsedValues()
    {
        var svc = Service("ns1", "svc1", "10.96.0.10", Port("p80", 80), Port("dns", 53, "UDP"));
        svc.Spec.SessionAffinity = "ClientIP";

        var result = ServiceParser.Parse(svc);

        Assert.Null(result.Error);
        Assert.Equal(2, result.Ports.Count);
        var p80 = result.Ports[0];
        Assert.Equal("ns1/svc1:p80", p80.Name.ToString());
        Assert.Equal(IPAddress.Parse("10.96.0.10"), p80.ClusterIP);
        Assert.Equal(L4Protocol.Tcp, p80.Protocol);
        Assert.Equal(ServiceParser.DefaultStickySeconds, p80.StickySeconds);
        Assert.Equal(L4Protocol.Udp, result.Ports[1].Protocol);
        Assert.Equal(0, p80.NodePort);
        Assert.False(p80.ExternallyAccessible);
    }

    [Fact]
    public void AnUnnamedPortPrintsAsTheServiceAlone()
    {
        var result = ServiceParser.Parse(Service("default", "web", "10.96.0.2", Port(null, 8080)));
        Assert.Equal("default/web", Assert.Single(result.Ports).Name.ToString());
    }

    [Theory]
    [InlineData("None")]
    [InlineData("")]
    public void HeadlessServicesAreNotProxied(string clusterIP)
    {
        var result = ServiceParser.Parse(Service("ns", "headless", clusterIP, Port("p", 80)));
        Assert.Null(result.Error);
        Assert.Empty(result.Ports);
    }

    [Fact]
    public void NodePortAndLocalPoliciesAreRead()
    {
        var svc = Service("ns", "np", "10.96.0.3", Port("http", 80, nodePort: 30080));
        svc.Spec.Type = "NodePort";
        svc.Spec.ExternalTrafficPolicy = "Local";
        svc.Spec.InternalTrafficPolicy = "Local";
        var port = Assert.Single(ServiceParser.Parse(svc).Ports);
        Assert.Equal(30080, port.NodePort);
        Assert.True(port.ExternalPolicyLocal);
        Assert.True(port.InternalPolicyLocal);
        Assert.False(port.UsesClusterEndpoints);
        Assert.True(port.UsesLocalEndpoints);
    }

    [Fact]
    public void ExternalTrafficPolicyLocalMeansNothingForAClusterIPOnlyService()
    {
        var svc = Service("ns", "c", "10.96.0.3", Port("http", 80));
        svc.Spec.ExternalTrafficPolicy = "Local";
        Assert.False(Assert.Single(ServiceParser.Parse(svc).Ports).ExternalPolicyLocal);
    }

    public static TheoryData<string, Action<V1Service>, string> HostileServices() => new()
    {
        { "bad external IP", s => s.Spec.ExternalIPs = ["1.2.3.4", "1.2.3.4; rm -rf /"], "spec.externalIPs" },
        { "short IPv4 form", s => s.Spec.ExternalIPs = ["1"], "spec.externalIPs" },
        { "bad cluster IP", s => s.Spec.ClusterIP = "10.96.0.300", "spec.clusterIP" },
        { "port too big", s => s.Spec.Ports[0].Port = 70000, "spec.ports[0].port" },
        { "port zero", s => s.Spec.Ports[0].Port = 0, "spec.ports[0].port" },
        { "SCTP", s => s.Spec.Ports[0].Protocol = "SCTP", "spec.ports[0].protocol" },
        { "unknown protocol", s => s.Spec.Ports[0].Protocol = "ICMP\" -j ACCEPT", "spec.ports[0].protocol" },
        { "port name with a quote", s => s.Spec.Ports[0].Name = "a\" -j ACCEPT", "spec.ports[0].name" },
        { "node port out of range", s => { s.Spec.Type = "NodePort"; s.Spec.Ports[0].NodePort = 99999; }, "spec.ports[0].nodePort" },
        { "affinity timeout", s => { s.Spec.SessionAffinity = "ClientIP"; s.Spec.SessionAffinityConfig = new V1SessionAffinityConfig { ClientIP = new V1ClientIPConfig { TimeoutSeconds = 0 } }; }, "timeoutSeconds" },
        { "source range", s => { s.Spec.Type = "LoadBalancer"; s.Spec.LoadBalancerSourceRanges = ["10.0.0.0/33"]; }, "loadBalancerSourceRanges[0]" },
    };

    [Theory]
    [MemberData(nameof(HostileServices))]
    public void AServiceWithAValueTheNodeCannotProgramIsSkippedWholeNamingTheField(string what, Action<V1Service> spoil, string field)
    {
        var svc = Service("ns", "bad", "10.96.0.4", Port("a", 80), Port("b", 81));
        spoil(svc);

        var result = ServiceParser.Parse(svc);

        Assert.True(result.Ports.Count == 0, what);
        Assert.NotNull(result.Error);
        Assert.Contains("ns/bad", result.Error);
        Assert.Contains(field, result.Error);
    }

    [Fact]
    public void ANameThatIsNotADnsLabelIsRefused()
    {
        var result = ServiceParser.Parse(Service("ns", "Bad\"Name", "10.96.0.5", Port("a", 80)));
        Assert.Empty(result.Ports);
        Assert.Contains("DNS labels", result.Error);
    }
}
