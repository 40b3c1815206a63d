using NodeAgent.Proxy;
using NodeAgent.Proxy.Iptables;

namespace NodeAgent.Tests.Proxy;

public class ChainNamesTests
{
    // Names from kube-proxy's own tests (pkg/proxy/iptables/proxier_test.go): a node handed between kube-proxy and
    // NodeAgent must see the same chains.
    [Fact]
    public void ServiceChainNamesAreKubeProxys()
    {
        Assert.Equal("KUBE-SVC-XPGD46QRK7WJZT7O", ChainNames.Service("ns1/svc1:p80", L4Protocol.Tcp));
        Assert.Equal("KUBE-EXT-XPGD46QRK7WJZT7O", ChainNames.External("ns1/svc1:p80", L4Protocol.Tcp));
        Assert.Equal("KUBE-SVL-XPGD46QRK7WJZT7O", ChainNames.Local("ns1/svc1:p80", L4Protocol.Tcp));
        Assert.Equal("KUBE-FW-XPGD46QRK7WJZT7O", ChainNames.Firewall("ns1/svc1:p80", L4Protocol.Tcp));
    }

    [Fact]
    public void EndpointChainNamesAreKubeProxys()
    {
        Assert.Equal("KUBE-SEP-SXIVWICOYRO3J4NJ", ChainNames.Endpoint("ns1/svc1:p80", L4Protocol.Tcp, "10.180.0.1:80"));
    }

    [Fact]
    public void TheProtocolIsPartOfTheHash()
    {
        Assert.NotEqual(ChainNames.Service("ns1/svc1:p80", L4Protocol.Tcp), ChainNames.Service("ns1/svc1:p80", L4Protocol.Udp));
        Assert.All(new[] { ChainNames.Service("a/b", L4Protocol.Udp), ChainNames.Endpoint("a/b", L4Protocol.Udp, "10.0.0.1:53") },
            n => Assert.True(n.Length <= 28 && n.Length == "KUBE-SVC-".Length + 16, n));
    }

    [Theory]
    [InlineData(1, "1.0000000000")]
    [InlineData(2, "0.5000000000")]
    [InlineData(3, "0.3333333333")]
    [InlineData(7, "0.1428571429")]
    public void ProbabilitiesArePrintedAsKubeProxyPrintsThem(int n, string text)
    {
        Assert.Equal(text, ServiceRules.Probability(n));
    }
}
