using NodeAgent.Network.Bridge;
using NodeAgent.Network.Ipam;
using NodeAgent.Cri;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Network;

/// <summary>
/// The built-in pod network against the real kernel, inside a node namespace the test creates: real sandboxes from
/// the runtime, busybox containers as pods, busybox httpd on the node and "outside".
/// </summary>
public sealed class BridgeNetworkTests : IAsyncLifetime
{
    private const string Cidr = "10.88.0.0/24";
    private readonly HostSnapshot _host = HostSnapshot.Take();
    private readonly TempDir _dir = new("nodeagent-net");
    private readonly List<BridgeNetwork> _networks = [];
    private NodeNetns _node = null!;
    private RuntimeFixture _rt = null!;
    private string _podCidr = Cidr;

    public Task InitializeAsync()
    {
        _node = new NodeNetns(_dir.Path);
        _rt = new RuntimeFixture(NewNetwork);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        try
        {
            _rt.Dispose();
        }
        finally
        {
            _networks.ForEach(n => n.Dispose());
            _node.Dispose();
            _dir.Dispose();
        }

        _host.AssertUnchanged();
        return Task.CompletedTask;
    }

    private BridgeNetwork NewNetwork()
    {
        var network = new BridgeNetwork(new BridgeNetworkOptions { PodCidr = _podCidr, StateDir = _dir.Combine("network"), NodeNetns = _node.NodePath, BridgeName = "nodeagent0" });
        _networks.Add(network);
        return network;
    }

    private async Task<(string Sandbox, string Ip)> PodAsync(string name, PodSandboxConfig? config = null, params string[] command)
    {
        var sandbox = await _rt.Runtime.RunPodSandboxAsync(config ?? _rt.Pod(name), CancellationToken.None);
        var ip = Assert.Single(_rt.Runtime.PodSandboxStatus(sandbox)!.PodIps);
        if (command.Length > 0)
        {
            var id = await _rt.Runtime.CreateContainerAsync(sandbox, RuntimeFixture.Container(name, command), CancellationToken.None);
            await _rt.Runtime.StartContainerAsync(id, CancellationToken.None);
        }

        return (sandbox, ip);
    }

    private static string[] Httpd(string content, int port) =>
        ["sh", "-c", $"mkdir -p /tmp/w && echo {content} > /tmp/w/index.html && exec httpd -f -p {port} -h /tmp/w"];

    private async Task<string> FetchFromPodAsync(string name, string address, int port)
    {
        // Retries until the server answers (it may still be starting), bounded by the container's own loop.
        var (sandbox, _) = await PodAsync(name + "-client", null);
        var id = await _rt.Runtime.CreateContainerAsync(sandbox, RuntimeFixture.Container(name, "sh", "-c",
            $"for i in $(seq 100); do out=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {address} {port}) && [ -n \"$out\" ] && echo \"$out\" | tail -n 1 && exit 0; sleep 0.1; done; exit 1"), CancellationToken.None);
        await _rt.Runtime.StartContainerAsync(id, CancellationToken.None);
        var status = await _rt.WaitAsync(id);
        Assert.True(status.ExitCode == 0, $"HTTP from pod to {address}:{port} failed: {string.Join('\n', _rt.Stderr(id))}");
        return string.Join('\n', _rt.Stdout(id));
    }

    [PrivilegedFact]
    public async Task Pods_reach_each_other_the_node_and_outside_through_masquerade()
    {
        var (_, serverIp) = await PodAsync("server", null, Httpd("hello-from-server", 8080));
        Assert.True(Ipv4Cidr.Parse(Cidr).Contains(System.Net.IPAddress.Parse(serverIp)));
        await _node.ServeAsync(_node.NodePath, NodeNetns.NodeAddress, 8081, "hello-from-node", _dir.Combine("www-node"));
        await _node.ServeAsync(_node.OutsidePath, NodeNetns.OutsideAddress, 8082, "hello-from-outside", _dir.Combine("www-out"));

        Assert.Equal("hello-from-server", await FetchFromPodAsync("a", serverIp, 8080));
        Assert.Equal("hello-from-node", await FetchFromPodAsync("b", NodeNetns.NodeAddress, 8081));
        Assert.Equal("hello-from-outside", await FetchFromPodAsync("c", NodeNetns.OutsideAddress, 8082));
        Assert.Contains("-j MASQUERADE", NodeNetns.Exec(_node.NodePath, "iptables-save", "-t", "nat"));
        // kubelet's hint, by which kube-proxy's iptables-wrapper picks the backend the node uses: in the default
        // iptables' mangle table, empty.
        Assert.Contains(":KUBE-IPTABLES-HINT - [0:0]", NodeNetns.Exec(_node.NodePath, "iptables-save", "-t", "mangle"));
    }

    [PrivilegedFact]
    public async Task HostPort_is_reachable_on_the_node_address_from_the_node_and_from_outside()
    {
        var config = _rt.Pod("web") with { PortMappings = [new PortMapping { ContainerPort = 8080, HostPort = 18080 }] };
        var (sandbox, ip) = await PodAsync("web", config, Httpd("hello-hostport", 8080));
        await NodeNetns.WaitAcceptingAsync(_node.NodePath, ip, 8080);

        Assert.Equal("hello-hostport", await NodeNetns.FetchAsync(_node.NodePath, NodeNetns.NodeAddress, 18080));
        Assert.Equal("hello-hostport", await NodeNetns.FetchAsync(_node.OutsidePath, NodeNetns.NodeAddress, 18080));

        await _rt.Runtime.RemovePodSandboxAsync(sandbox, CancellationToken.None);
        Assert.DoesNotContain("18080", NodeNetns.Exec(_node.NodePath, "iptables-save", "-t", "nat"));
    }

    [PrivilegedFact]
    public async Task A_hostIP_carrying_rule_text_fails_the_sandbox_and_never_reaches_iptables()
    {
        var injected = "10.9.9.9\n-A OUTPUT -m comment --comment INJECTED -j ACCEPT\n#";
        var config = _rt.Pod("evil") with { PortMappings = [new PortMapping { ContainerPort = 8080, HostPort = 18081, HostIp = injected }] };
        var ex = await Assert.ThrowsAsync<RuntimeException>(() => _rt.Runtime.RunPodSandboxAsync(config, CancellationToken.None));
        Assert.Contains("hostIP \"10.9.9.9?-A OUTPUT", ex.Message);
        Assert.Contains("must be an IPv4 address", ex.Message);
        Assert.Empty(_rt.Runtime.ListPodSandboxes());
        var nat = NodeNetns.Exec(_node.NodePath, "iptables-save", "-t", "nat");
        Assert.DoesNotContain("INJECTED", nat);
        Assert.DoesNotContain("18081", nat);
    }

    [PrivilegedFact]
    public async Task Addresses_survive_a_restart_are_released_on_removal_and_leaks_are_reclaimed()
    {
        var (first, ip1) = await PodAsync("one");
        var (second, ip2) = await PodAsync("two");
        Assert.NotEqual(ip1, ip2);

        _rt.Restart();
        Assert.Equal(ip1, Assert.Single(_rt.Runtime.PodSandboxStatus(first)!.PodIps));
        Assert.Contains(ip1 + "\tone", File.ReadAllText(HostsOf(first)), StringComparison.Ordinal);

        // A leaked allocation (its sandbox vanished while no agent ran) is reclaimed by the next runtime.
        var ipam = new IpAllocator(Ipv4Cidr.Parse(Cidr), _dir.Combine("network"));
        var leaked = ipam.Allocate(new string('f', 64));
        _rt.Restart();
        var (_, ip3) = await PodAsync("three");
        Assert.DoesNotContain(ipam.Allocations(), a => a.Owner == new string('f', 64));
        Assert.DoesNotContain(ip3, new[] { ip1, ip2 });
        Assert.NotNull(leaked);

        await _rt.Runtime.RemovePodSandboxAsync(second, CancellationToken.None);
        Assert.DoesNotContain(ipam.Allocations(), a => a.Address.ToString() == ip2);
        Assert.DoesNotContain(BridgeNetwork.HostVethName(second), NodeNetns.Exec(_node.NodePath, "ip", "-o", "link"));
    }

    [PrivilegedFact]
    public async Task An_exhausted_pool_fails_the_sandbox_with_a_clear_reason_and_leaks_nothing()
    {
        _podCidr = "10.89.0.0/30"; // one pod address: .2
        _rt.Restart();
        var (_, ip) = await PodAsync("only");
        Assert.Equal("10.89.0.2", ip);
        var linksBefore = NodeNetns.Exec(_node.NodePath, "ip", "-o", "link").Split('\n').Length;

        var ex = await Assert.ThrowsAsync<RuntimeException>(() => _rt.Runtime.RunPodSandboxAsync(_rt.Pod("too-many"), CancellationToken.None));
        Assert.Equal(RuntimeErrorKind.SandboxError, ex.Kind);
        Assert.Contains("pod test/too-many: set up pod network", ex.Message);
        Assert.Contains("10.89.0.0/30 is exhausted", ex.Message);
        Assert.Single(_rt.Runtime.ListPodSandboxes());
        Assert.Equal(linksBefore, NodeNetns.Exec(_node.NodePath, "ip", "-o", "link").Split('\n').Length);
        Assert.Single(new IpAllocator(Ipv4Cidr.Parse("10.89.0.0/30"), _dir.Combine("network")).Allocations());
    }

    [PrivilegedFact]
    public async Task DNS_files_carry_the_pod_IP_hostname_aliases_and_the_dns_config()
    {
        var config = _rt.Pod("dns") with
        {
            Hostname = "web-0",
            HostnameFqdn = "web-0.web.test.svc.cluster.local",
            HostAliases = [new HostAlias("10.1.2.3", ["foo.local", "bar.local"])],
            DnsConfig = new DnsConfig { Servers = ["10.96.0.10"], Searches = ["test.svc.cluster.local", "svc.cluster.local", "cluster.local"], Options = ["ndots:5"] },
        };
        var (sandbox, ip) = await PodAsync("dns", config);
        var id = await _rt.Runtime.CreateContainerAsync(sandbox, RuntimeFixture.Container("cat", "sh", "-c", "cat /etc/resolv.conf /etc/hosts; hostname"), CancellationToken.None);
        await _rt.Runtime.StartContainerAsync(id, CancellationToken.None);
        Assert.Equal(0, (await _rt.WaitAsync(id)).ExitCode);
        var output = _rt.Stdout(id);
        Assert.Contains("nameserver 10.96.0.10", output);
        Assert.Contains("search test.svc.cluster.local svc.cluster.local cluster.local", output);
        Assert.Contains("options ndots:5", output);
        Assert.Contains($"{ip}\tweb-0.web.test.svc.cluster.local\tweb-0", output);
        Assert.Contains("10.1.2.3\tfoo.local\tbar.local", output);
        Assert.Equal("web-0", output[^1]);
    }

    [PrivilegedFact]
    public async Task Cleanup_removes_the_bridge_the_chains_and_the_state()
    {
        var (sandbox, _) = await PodAsync("gone", _rt.Pod("gone") with { PortMappings = [new PortMapping { ContainerPort = 80, HostPort = 18081 }] });
        await _rt.Runtime.RemovePodSandboxAsync(sandbox, CancellationToken.None);
        Assert.Contains("NODEAGENT-HOSTPORTS", NodeNetns.Exec(_node.NodePath, "iptables-save"));

        await NewNetwork().CleanupAsync(CancellationToken.None);
        Assert.DoesNotContain("NODEAGENT", NodeNetns.Exec(_node.NodePath, "iptables-save"));
        Assert.DoesNotContain("KUBE-IPTABLES-HINT", NodeNetns.Exec(_node.NodePath, "iptables-save"));
        Assert.DoesNotContain("nodeagent0", NodeNetns.Exec(_node.NodePath, "ip", "-o", "link"));
        Assert.False(Directory.Exists(_dir.Combine("network")));
    }

    [PrivilegedFact]
    public async Task HostNetwork_pods_share_the_node_namespace_and_get_no_pod_address()
    {
        var sandbox = await _rt.Runtime.RunPodSandboxAsync(_rt.Pod("hostnet", hostNetwork: true), CancellationToken.None);
        var status = _rt.Runtime.PodSandboxStatus(sandbox)!;
        Assert.Empty(status.PodIps);
        Assert.False(status.NamespacePaths.ContainsKey("net"));
        Assert.Empty(new IpAllocator(Ipv4Cidr.Parse(Cidr), _dir.Combine("network")).Allocations());
    }

    [PrivilegedFact]
    public async Task Check_passes_for_an_intact_pod_and_names_a_missing_veth()
    {
        var (sandbox, _) = await PodAsync("checked");
        await _rt.Runtime.CheckPodSandboxNetworkAsync(sandbox, CancellationToken.None);

        NodeNetns.Exec(_node.NodePath, "ip", "link", "del", BridgeNetwork.HostVethName(sandbox));
        var ex = await Assert.ThrowsAsync<IOException>(() => _rt.Runtime.CheckPodSandboxNetworkAsync(sandbox, CancellationToken.None));
        Assert.Contains($"host veth {BridgeNetwork.HostVethName(sandbox)} is missing", ex.Message);
    }

    private string HostsOf(string sandbox) => Path.Combine(_rt.Root, "sandboxes", sandbox, "hosts");
}
