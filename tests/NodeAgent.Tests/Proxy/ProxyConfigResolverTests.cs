using System.Net;
using NodeAgent.Proxy;

namespace NodeAgent.Tests.Proxy;

public class ProxyConfigResolverTests
{
    private const string File = """
        apiVersion: kubeproxy.config.k8s.io/v1alpha1
        kind: KubeProxyConfiguration
        clientConnection:
          kubeconfig: /etc/proxy.kubeconfig
          qps: 5
        mode: iptables
        clusterCIDR: 10.42.0.0/16
        nodePortAddresses: ["192.168.1.0/24"]
        hostnameOverride: node-7
        healthzBindAddress: 127.0.0.1:20256
        metricsBindAddress: ""
        iptables:
          masqueradeAll: true
          minSyncPeriod: 500ms
          syncPeriod: 1m30s
        conntrack:
          maxPerCore: 0
        """;

    private static ProxyConfig Resolve(Dictionary<string, string> flags, List<string>? warnings = null) =>
        ProxyConfigResolver.Resolve(flags, warnings ?? [], path => path == "/cfg.yaml" ? File : throw new FileNotFoundException(path));

    [Fact]
    public void TheDefaultsAreKubeProxys()
    {
        var config = Resolve([]);
        Assert.Equal("iptables", config.Mode);
        Assert.Equal(TimeSpan.FromSeconds(1), config.MinSyncPeriod);
        Assert.Equal(TimeSpan.FromSeconds(30), config.SyncPeriod);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 10256), config.HealthzBindAddress);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 10249), config.MetricsBindAddress);
        Assert.False(config.MasqueradeAll);
        Assert.Null(config.ClusterCidr);
        Assert.Equal(TimeSpan.FromMilliseconds(250), config.UdpIdleTimeout);
    }

    [Fact]
    public void TheUserspaceModesUdpTimeoutComesFromTheFileOrTheFlagAndMustBePositive()
    {
        var file = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: userspace\nudpIdleTimeout: 2s\n";
        var warnings = new List<string>();
        var fromFile = ProxyConfigResolver.Resolve(new Dictionary<string, string> { ["config"] = "/u.yaml" }, warnings, _ => file);
        Assert.Equal("userspace", fromFile.Mode);
        Assert.Equal(TimeSpan.FromSeconds(2), fromFile.UdpIdleTimeout);
        Assert.Empty(warnings);

        Assert.Equal(TimeSpan.FromMilliseconds(500), Resolve(new() { ["proxy-mode"] = "userspace", ["udp-timeout"] = "500ms" }).UdpIdleTimeout);
        var zero = Assert.Throws<FormatException>(() => Resolve(new() { ["udp-timeout"] = "0s" }));
        Assert.Contains("--udp-timeout: must be greater than 0", zero.Message);
    }

    [Fact]
    public void TheConfigFileIsReadAndUnusedFieldsAreWarnedAbout()
    {
        var warnings = new List<string>();
        var config = Resolve(new() { ["config"] = "/cfg.yaml" }, warnings);

        Assert.Equal("/etc/proxy.kubeconfig", config.Kubeconfig);
        Assert.Equal((IPAddress.Parse("10.42.0.0"), 16), config.ClusterCidr);
        Assert.Equal([(IPAddress.Parse("192.168.1.0"), 24)], config.NodePortAddresses);
        Assert.Equal("node-7", config.HostnameOverride);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 20256), config.HealthzBindAddress);
        Assert.Null(config.MetricsBindAddress);
        Assert.True(config.MasqueradeAll);
        Assert.Equal(TimeSpan.FromMilliseconds(500), config.MinSyncPeriod);
        Assert.Equal(TimeSpan.FromSeconds(90), config.SyncPeriod);
        Assert.Equal(["/cfg.yaml: field conntrack is not used by NodeAgent's proxy"], warnings);
    }

    [Fact]
    public void FlagsGivenWinOverTheFile()
    {
        var config = Resolve(new()
        {
            ["config"] = "/cfg.yaml",
            ["cluster-cidr"] = "10.0.0.0/8",
            ["iptables-sync-period"] = "10s",
            ["masquerade-all"] = "false",
            ["healthz-bind-address"] = "0.0.0.0:10256",
            ["hostname-override"] = "n1",
        });
        Assert.Equal((IPAddress.Parse("10.0.0.0"), 8), config.ClusterCidr);
        Assert.Equal(TimeSpan.FromSeconds(10), config.SyncPeriod);
        Assert.False(config.MasqueradeAll);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 10256), config.HealthzBindAddress);
        Assert.Equal("n1", config.HostnameOverride);
        Assert.Equal(TimeSpan.FromMilliseconds(500), config.MinSyncPeriod);
    }

    [Theory]
    [InlineData("proxy-mode", "ipvs", "--proxy-mode")]
    [InlineData("cluster-cidr", "10.0.0.0/40", "--cluster-cidr")]
    [InlineData("nodeport-addresses", "10.0.0.0/8,primary", "--nodeport-addresses")]
    [InlineData("iptables-sync-period", "0s", "--iptables-sync-period")]
    [InlineData("iptables-min-sync-period", "5 parsecs", "--iptables-min-sync-period")]
    [InlineData("healthz-bind-address", "0.0.0.0:99999", "--healthz-bind-address")]
    [InlineData("metrics-bind-address", "localhost:10249", "--metrics-bind-address")]
    [InlineData("masquerade-all", "yes", "--masquerade-all")]
    [InlineData("iptables-backend", "nftables", "--iptables-backend")]
    public void ABadValueIsRefusedNamingTheFlag(string flag, string value, string named)
    {
        var ex = Assert.Throws<FormatException>(() => Resolve(new() { [flag] = value }));
        Assert.StartsWith(named, ex.Message);
    }

    [Fact]
    public void TheIptablesBackendIsDetectedUnlessGiven()
    {
        Assert.Null(Resolve([]).IptablesBackend);
        Assert.Null(Resolve(new() { ["iptables-backend"] = "auto" }).IptablesBackend);
        Assert.Equal(NodeAgent.Linux.IptablesBackend.Legacy, Resolve(new() { ["iptables-backend"] = "legacy" }).IptablesBackend);
        Assert.Equal(NodeAgent.Linux.IptablesBackend.Nft, Resolve(new() { ["iptables-backend"] = "nft" }).IptablesBackend);
    }

    [Fact]
    public void AFileOfAnotherKindIsRefused()
    {
        var ex = Assert.Throws<FormatException>(() => ProxyConfigResolver.Resolve(new Dictionary<string, string> { ["config"] = "/k.yaml" }, [],
            _ => "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"));
        Assert.Contains("/k.yaml", ex.Message);
        Assert.Contains("KubeProxyConfiguration", ex.Message);
    }

    [Theory]
    [InlineData("1s", 1000)]
    [InlineData("1m30s", 90000)]
    [InlineData("250ms", 250)]
    [InlineData("1h", 3600000)]
    [InlineData("0", 0)]
    public void GoDurationsAreRead(string text, int milliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), GoDuration.Parse(text, "x"));
    }
}
