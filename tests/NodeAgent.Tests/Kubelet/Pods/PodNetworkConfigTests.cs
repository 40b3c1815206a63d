using k8s.Models;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Cri;
using NodeAgent.Runtime.Sandboxes;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>What kubelet hands the runtime for a pod's network: DNS by dnsPolicy, hostname/FQDN, hostAliases,
/// hostPorts; and the pod IPs it reports back in status.</summary>
public sealed class PodNetworkConfigTests : IDisposable
{
    private readonly TempDir _dir = new("nodeagent-dns");
    private readonly string _resolv;

    public PodNetworkConfigTests()
    {
        _resolv = _dir.Combine("resolv.conf");
        File.WriteAllText(_resolv, "# node\nnameserver 192.0.2.53\nsearch corp.example\noptions timeout:2\n");
    }

    public void Dispose() => _dir.Dispose();

    private static V1Pod Pod(string? policy = null, bool hostNetwork = false, V1PodDNSConfig? dnsConfig = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web-0", NamespaceProperty = "shop", Uid = "u1" },
        Spec = new V1PodSpec
        {
            DnsPolicy = policy,
            HostNetwork = hostNetwork,
            DnsConfig = dnsConfig,
            Hostname = "web-0",
            Subdomain = "web",
            HostAliases = [new V1HostAlias { Ip = "10.1.2.3", Hostnames = ["foo.local"] }],
            Containers =
            [
                new V1Container
                {
                    Name = "app", Image = "localhost/busybox:latest",
                    Ports = [new V1ContainerPort { ContainerPort = 80, HostPort = 8080 }, new V1ContainerPort { ContainerPort = 9090 }, new V1ContainerPort { ContainerPort = 53, HostPort = 5353, Protocol = "UDP", HostIP = "127.0.0.1" }],
                },
            ],
        },
    };

    private PodDnsConfigurer Dns(params string[] clusterDns) => new(new PodDnsOptions { ClusterDns = clusterDns, ClusterDomain = "cluster.local", ResolvConf = _resolv });

    [Fact]
    public void ClusterFirst_uses_cluster_DNS_the_service_search_path_then_the_nodes_and_ndots_5()
    {
        var (config, warning) = Dns("10.96.0.10").For(Pod());
        Assert.Null(warning);
        Assert.Equal(["10.96.0.10"], config.Servers);
        Assert.Equal(["shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"], config.Searches);
        Assert.Equal(["ndots:5"], config.Options);
        Assert.Equal("nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local corp.example\noptions ndots:5\n", PodDnsFiles.ResolvConf(config));
    }

    [Fact]
    public void ClusterFirst_without_cluster_DNS_falls_back_to_Default_with_a_warning()
    {
        var (config, warning) = Dns().For(Pod());
        Assert.Contains("Falling back to \"Default\" policy", warning);
        Assert.Equal(["192.0.2.53"], config.Servers);
        Assert.Equal(["corp.example"], config.Searches);
    }

    [Theory]
    [InlineData("Default", false, "192.0.2.53")]
    [InlineData("ClusterFirst", true, "192.0.2.53")]
    [InlineData("ClusterFirstWithHostNet", true, "10.96.0.10")]
    [InlineData("ClusterFirstWithHostNet", false, "10.96.0.10")]
    public void Policy_and_hostNetwork_choose_the_servers(string policy, bool hostNetwork, string server)
    {
        Assert.Equal([server], Dns("10.96.0.10").For(Pod(policy, hostNetwork)).Config.Servers);
    }

    [Fact]
    public void None_takes_only_dnsConfig_and_dnsConfig_merges_into_other_policies()
    {
        var custom = new V1PodDNSConfig { Nameservers = ["1.1.1.1"], Searches = ["a.example"], Options = [new V1PodDNSConfigOption { Name = "ndots", Value = "2" }, new V1PodDNSConfigOption { Name = "edns0" }] };
        var none = Dns("10.96.0.10").For(Pod("None", dnsConfig: custom)).Config;
        Assert.Equal(["1.1.1.1"], none.Servers);
        Assert.Equal(["a.example"], none.Searches);
        Assert.Equal(["ndots:2", "edns0"], none.Options);

        var merged = Dns("10.96.0.10").For(Pod("ClusterFirst", dnsConfig: custom)).Config;
        Assert.Equal(["10.96.0.10", "1.1.1.1"], merged.Servers);
        Assert.Equal("a.example", merged.Searches[^1]);
        Assert.Equal(["ndots:2", "edns0"], merged.Options);
    }

    [Fact]
    public void Sandbox_config_carries_FQDN_aliases_and_hostPort_mappings_only()
    {
        var config = new PodSandboxFactory("/var/log/pods", new PodDnsOptions { ClusterDns = ["10.96.0.10"], ResolvConf = _resolv }).Create(Pod(), 0);
        Assert.Equal("web-0.web.shop.svc.cluster.local", config.HostnameFqdn);
        Assert.Equal("10.1.2.3", Assert.Single(config.HostAliases).Ip);
        Assert.Equal(
            [new PortMapping { Protocol = "TCP", ContainerPort = 80, HostPort = 8080 }, new PortMapping { Protocol = "UDP", ContainerPort = 53, HostPort = 5353, HostIp = "127.0.0.1" }],
            config.PortMappings);
        Assert.Equal(["10.96.0.10"], config.DnsConfig!.Servers);
    }

    [Fact]
    public void Missing_cluster_DNS_is_reported_through_the_warning_callback()
    {
        var warnings = new List<string>();
        new PodSandboxFactory("/var/log/pods", new PodDnsOptions { ResolvConf = _resolv }, (_, reason, _) => warnings.Add(reason)).Create(Pod(), 0);
        Assert.Equal([PodDnsConfigurer.MissingClusterDnsReason], warnings);
    }

    [Theory]
    [InlineData(false, "10.88.0.7")]
    [InlineData(true, "192.168.1.5")]
    public void Status_reports_the_sandbox_IP_or_for_hostNetwork_the_host_IP(bool hostNetwork, string expected)
    {
        var pod = Pod(hostNetwork: hostNetwork);
        var sandbox = new PodSandboxStatus { Id = "s", Config = new PodSandboxFactory("/l").Create(pod, 0), PodIps = hostNetwork ? [] : ["10.88.0.7"] };
        var status = PodStatusBuilder.Build(pod, new PodRuntimeView(sandbox, []), new Dictionary<string, ContainerWaiting>(), "192.168.1.5", null, DateTime.UtcNow);
        Assert.Equal(expected, status.PodIP);
        Assert.Equal(expected, Assert.Single(status.PodIPs).Ip);
    }

    [Fact]
    public void Hosts_file_has_the_pod_IP_with_FQDN_and_hostname_then_aliases()
    {
        var hosts = PodDnsFiles.Hosts("web-0", "web-0.web.shop.svc.cluster.local", ["10.88.0.7"], [new HostAlias("10.1.2.3", ["foo.local", "bar.local"])]);
        Assert.Contains("\n10.88.0.7\tweb-0.web.shop.svc.cluster.local\tweb-0\n", hosts);
        Assert.EndsWith("# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n", hosts);
        Assert.DoesNotContain("127.0.1.1", hosts);
    }
}
