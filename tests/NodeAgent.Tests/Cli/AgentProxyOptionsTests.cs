using System.Net;
using NodeAgent.Cli.Agent;
using NodeAgent.Kubelet.Config;

namespace NodeAgent.Tests.Cli;

/// <summary>The service proxy inside the agent (k3s' model): on with a kubeconfig, off standalone or with
/// <c>--disable-kube-proxy</c>; the agent's kubeconfig, node name and pod CIDR are its defaults, and
/// <c>--kube-proxy-arg</c> values win over them.</summary>
public sealed class AgentProxyOptionsTests
{
    private static AgentOptions Options(Action<AgentOptions>? change = null)
    {
        var o = new AgentOptions { KubeConfig = "/etc/nodeagent/node.kubeconfig" };
        change?.Invoke(o);
        return o;
    }

    [Fact]
    public void AnAgentInAClusterRunsTheProxyWithItsOwnCredentialNameAndPodCidr()
    {
        var warnings = new List<string>();
        var config = AgentProxyOptions.Resolve(Options(o => o.Kubelet.PodCidr = "10.42.0.0/24"), "node-a", warnings)!;
        Assert.Equal("/etc/nodeagent/node.kubeconfig", config.Kubeconfig);
        Assert.Equal("node-a", config.HostnameOverride);
        Assert.Equal((IPAddress.Parse("10.42.0.0"), 24), config.ClusterCidr);
        Assert.Equal("iptables", config.Mode);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 10256), config.HealthzBindAddress);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 10249), config.MetricsBindAddress);
        Assert.Empty(warnings);
    }

    [Fact]
    public void KubeProxyArgsWinOverTheAgentsDefaults()
    {
        var config = AgentProxyOptions.Resolve(Options(o => o.KubeProxyArgs = AgentProxyOptions.ParseArgs(
            ["cluster-cidr=10.1.0.0/16", "healthz-bind-address=", "metrics-bind-address=127.0.0.1:19249", "iptables-sync-period=5s", "masquerade-all=true"])),
            "node-a", [])!;
        Assert.Equal((IPAddress.Parse("10.1.0.0"), 16), config.ClusterCidr);
        Assert.Null(config.HealthzBindAddress);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 19249), config.MetricsBindAddress);
        Assert.Equal(TimeSpan.FromSeconds(5), config.SyncPeriod);
        Assert.True(config.MasqueradeAll);
    }

    [Fact]
    public void NoClusterCidrWhenAnotherNetworkOwnsThePods()
    {
        Assert.Null(AgentProxyOptions.Resolve(Options(o => o.NetworkPlugin = "cni"), "node-a", [])!.ClusterCidr);
    }

    [Fact]
    public void NoProxyStandaloneOrWhenDisabled()
    {
        Assert.Null(AgentProxyOptions.Resolve(Options(o => o.KubeConfig = null), "node-a", []));
        Assert.Null(AgentProxyOptions.Resolve(Options(o => o.DisableKubeProxy = true), "node-a", []));
    }

    [Theory]
    [InlineData("proxy-mode=ipvs", "--kube-proxy-arg: --proxy-mode")]
    [InlineData("cluster-cidr=10.0.0.0/40", "--kube-proxy-arg: --cluster-cidr")]
    [InlineData("no-such-flag=1", "--kube-proxy-arg: --no-such-flag: unknown flag")]
    public void ABadArgumentStopsTheAgentNamingIt(string arg, string expected)
    {
        var e = Assert.Throws<KubeletConfigurationException>(() =>
            AgentProxyOptions.Resolve(Options(o => o.KubeProxyArgs = AgentProxyOptions.ParseArgs([arg])), "node-a", []));
        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }
}
