using NodeAgent.Network.Cni;
using NodeAgent.Cri;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Network;

/// <summary>
/// The CNI mode with Debian's containernetworking-plugins (bridge + host-local + portmap) in a node namespace the
/// test creates: ADD at sandbox creation, results parsed for the pod IP, CHECK, DEL at removal.
/// </summary>
public sealed class CniNetworkTests : IAsyncLifetime
{
    private const string BinDir = "/usr/lib/cni";
    private readonly HostSnapshot _host = HostSnapshot.Take();
    private readonly TempDir _dir = new("nodeagent-cni");
    private NodeNetns _node = null!;
    private RuntimeFixture _rt = null!;

    public Task InitializeAsync()
    {
        _node = new NodeNetns(_dir.Path);
        var confDir = _dir.Combine("net.d");
        Directory.CreateDirectory(confDir);
        File.WriteAllText(Path.Combine(confDir, "10-test.conflist"), $$$"""
            {"cniVersion": "1.0.0", "name": "natest", "plugins": [
              {"type": "bridge", "bridge": "cni-na0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
               "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.99.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}],
                        "dataDir": "{{{_dir.Combine("cni-ipam")}}}"}},
              {"type": "portmap", "capabilities": {"portMappings": true}}
            ]}
            """);
        File.WriteAllText(Path.Combine(confDir, "99-ignored.conflist"), "not json: only the first file is used");
        _rt = new RuntimeFixture(() => new CniNetwork(new CniOptions { ConfDir = confDir, BinDirs = [BinDir], StateDir = _dir.Combine("cni-state"), NodeNetns = _node.NodePath }));
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
            _node.Dispose();
            _dir.Dispose();
        }

        _host.AssertUnchanged();
        return Task.CompletedTask;
    }

    [PrivilegedFact]
    public async Task Pods_reach_each_other_and_a_hostPort_and_DEL_releases_everything()
    {
        var web = _rt.Pod("web") with { PortMappings = [new PortMapping { ContainerPort = 8080, HostPort = 18090 }] };
        var server = await _rt.Runtime.RunPodSandboxAsync(web, CancellationToken.None);
        var serverIp = Assert.Single(_rt.Runtime.PodSandboxStatus(server)!.PodIps);
        Assert.StartsWith("10.99.0.", serverIp);
        var httpd = await _rt.Runtime.CreateContainerAsync(server, RuntimeFixture.Container("httpd", "sh", "-c",
            "mkdir -p /tmp/w && echo hello-cni > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w"), CancellationToken.None);
        await _rt.Runtime.StartContainerAsync(httpd, CancellationToken.None);
        await NodeNetns.WaitAcceptingAsync(_node.NodePath, serverIp, 8080);

        var client = await _rt.Runtime.RunPodSandboxAsync(_rt.Pod("client"), CancellationToken.None);
        var clientIp = Assert.Single(_rt.Runtime.PodSandboxStatus(client)!.PodIps);
        Assert.NotEqual(serverIp, clientIp);
        var nc = await _rt.Runtime.CreateContainerAsync(client, RuntimeFixture.Container("nc", "sh", "-c",
            $"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {serverIp} 8080 | tail -n 1"), CancellationToken.None);
        await _rt.Runtime.StartContainerAsync(nc, CancellationToken.None);
        Assert.Equal(0, (await _rt.WaitAsync(nc)).ExitCode);
        Assert.Equal(["hello-cni"], _rt.Stdout(nc));

        Assert.Equal("hello-cni", await NodeNetns.FetchAsync(_node.OutsidePath, NodeNetns.NodeAddress, 18090));
        await _rt.Runtime.CheckPodSandboxNetworkAsync(client, CancellationToken.None);

        await _rt.Runtime.RemovePodSandboxAsync(server, CancellationToken.None);
        Assert.False(File.Exists(Path.Combine(_dir.Combine("cni-ipam"), "natest", serverIp)));
        Assert.DoesNotContain("18090", NodeNetns.Exec(_node.NodePath, "iptables-save", "-t", "nat"));
    }

    [PrivilegedFact]
    public async Task A_failing_plugin_fails_the_sandbox_with_its_message_and_leaves_nothing()
    {
        var confDir = _dir.Combine("net.d");
        File.WriteAllText(Path.Combine(confDir, "10-test.conflist"), """
            {"cniVersion": "1.0.0", "name": "broken", "plugins": [{"type": "bridge", "bridge": "cni-na1", "ipam": {"type": "no-such-ipam"}}]}
            """);
        _rt.Restart();
        var ex = await Assert.ThrowsAsync<RuntimeException>(() => _rt.Runtime.RunPodSandboxAsync(_rt.Pod("broken"), CancellationToken.None));
        Assert.True(ex.Message.Contains("pod test/broken: set up pod network: CNI plugin bridge ADD", StringComparison.Ordinal), ex.Message);
        Assert.Contains("no-such-ipam", ex.Message);
        Assert.Empty(_rt.Runtime.ListPodSandboxes());
        Assert.Empty(Directory.EnumerateFiles(_dir.Combine("cni-state", "results")));
    }

    [Fact]
    public void Configuration_errors_name_the_file_and_the_fault()
    {
        var ex = Assert.Throws<IOException>(() => CniConfList.Parse("""{"name": "x", "plugins": [{"ipam": {}}]}""", "/etc/cni/net.d/10-x.conflist"));
        Assert.Equal("CNI config /etc/cni/net.d/10-x.conflist: plugins[0] has no \"type\"", ex.Message);
        Assert.Contains("no network configuration", Assert.Throws<IOException>(() => CniConfList.LoadFirst(_dir.Combine("empty"))).Message);
        var single = CniConfList.Parse("""{"cniVersion": "0.4.0", "name": "one", "type": "bridge"}""", "x.conf");
        Assert.Equal("bridge", (string?)Assert.Single(single.Plugins)["type"]);
    }
}
