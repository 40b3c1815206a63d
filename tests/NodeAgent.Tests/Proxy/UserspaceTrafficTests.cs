using System.Net;
using System.Net.Sockets;
using System.Text;
using k8s.Models;
using NodeAgent.Linux;
using NodeAgent.Proxy;
using NodeAgent.Proxy.Userspace;
using NodeAgent.Tests.Kubelet;
using NodeAgent.Tests.Network;
using NodeAgent.Tests.Support;
using static NodeAgent.Tests.Proxy.ProxyObjects;

namespace NodeAgent.Tests.Proxy;

/// <summary>
/// Real traffic through the userspace proxier: its listeners and rules in a node namespace, three backend
/// namespaces answering with their names, clients on the node (cluster IP), in a backend namespace (a pod) and
/// outside the node (node port).
/// </summary>
public sealed class UserspaceTrafficTests : IAsyncLifetime
{
    private const string ClusterIP = "172.30.0.41", EmptyIP = "172.30.0.44", StickyIP = "172.30.0.43", DnsIP = "172.30.0.10";
    private const int NodePort = 30080;

    private readonly ServiceTestNetwork _net;
    private readonly ListLogger<UserspaceTrafficTests> _log = new();
    private readonly UserspaceProxier _proxier;
    private readonly ProxyStates _states = new("node-a");

    public UserspaceTrafficTests()
    {
        _net = new ServiceTestNetwork(3);
        _proxier = Proxier(IPAddress.Any);
    }

    private UserspaceProxier Proxier(IPAddress listen) => new(new NodeAgent.Linux.Iptables(new NodeCommand(_net.NodePath)), new UserspaceSettings
    {
        NodeNetns = _net.NodePath,
        ListenAddress = listen,
        HostAddress = IPAddress.Parse(NodeNetns.NodeAddress),
        UdpIdleTimeout = TimeSpan.FromSeconds(2),
    }, _log);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _proxier.DisposeAsync();
        _net.Dispose();
    }

    private static V1Endpoint[] Three(bool b3Ready = true) =>
        [Ep(ServiceTestNetwork.BackendIP(1)), Ep(ServiceTestNetwork.BackendIP(2)), Ep(ServiceTestNetwork.BackendIP(3), ready: b3Ready)];

    private async Task SyncAsync(bool full = true) => await _proxier.SyncAsync(_states.Next(), full, CancellationToken.None);

    [PrivilegedFact]
    public async Task ClusterIPConnectionsFromTheNodeSpreadEvenlyOverEveryReadyBackend()
    {
        _states.Add(Service("ns1", "web", ClusterIP, Port("http", 80))).Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));
        await SyncAsync();

        var counts = await ServiceTestNetwork.SpreadAsync(_net.NodePath, ClusterIP, 80, 300);

        string[] all = ["b1", "b2", "b3"];
        Assert.Equal(all, counts.Keys.Order());
        // 2 degrees of freedom: 9.210 is the 1 % critical value.
        var chi = ServiceTestNetwork.ChiSquare(counts, all);
        Assert.True(chi < 9.210, $"chi-square {chi:F2} over {string.Join(", ", counts.Select(c => $"{c.Key}={c.Value}"))}");
        // The proxy connects from the node: the backend sees the node's bridge address.
        Assert.EndsWith(" 10.180.0.254", await ServiceTestNetwork.AskTcpAsync(_net.NodePath, ClusterIP, 80));
    }

    [PrivilegedFact]
    public async Task ClusterIPConnectionsFromAPodAndNodePortConnectionsFromOutsideReachEveryBackend()
    {
        var web = Service("ns1", "web", ClusterIP, Port("http", 80, nodePort: NodePort));
        web.Spec.Type = "NodePort";
        _states.Add(web).Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));
        await SyncAsync();

        var fromPod = await ServiceTestNetwork.SpreadAsync(_net.BackendPath(1), ClusterIP, 80, 30);
        var fromOutside = await ServiceTestNetwork.SpreadAsync(_net.OutsidePath, NodeNetns.NodeAddress, NodePort, 30);
        var fromNode = await ServiceTestNetwork.SpreadAsync(_net.NodePath, NodeNetns.NodeAddress, NodePort, 30);

        Assert.Equal(["b1", "b2", "b3"], fromPod.Keys.Order());
        Assert.Equal(["b1", "b2", "b3"], fromOutside.Keys.Order());
        Assert.Equal(["b1", "b2", "b3"], fromNode.Keys.Order());
    }

    [PrivilegedFact]
    public async Task ClientIPAffinityPinsAClientToOneBackend()
    {
        var sticky = Service("ns1", "sticky", StickyIP, Port("http", 80));
        sticky.Spec.SessionAffinity = "ClientIP";
        _states.Add(sticky).Add(Backends("sticky", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));
        await SyncAsync();

        var fromNode = await ServiceTestNetwork.SpreadAsync(_net.NodePath, StickyIP, 80, 40);
        var fromPod = await ServiceTestNetwork.SpreadAsync(_net.BackendPath(2), StickyIP, 80, 40);

        Assert.Equal(40, Assert.Single(fromNode).Value);
        Assert.Equal(40, Assert.Single(fromPod).Value);
    }

    [PrivilegedFact]
    public async Task AnEndpointThatTurnsUnreadyGetsNoNewConnections()
    {
        _states.Add(Service("ns1", "web", ClusterIP, Port("http", 80))).Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));
        await SyncAsync();
        Assert.Contains("b3", (await ServiceTestNetwork.SpreadAsync(_net.NodePath, ClusterIP, 80, 30)).Keys);

        _states.Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three(b3Ready: false)));
        await SyncAsync(full: false);
        var counts = await ServiceTestNetwork.SpreadAsync(_net.NodePath, ClusterIP, 80, 60);

        Assert.Equal(["b1", "b2"], counts.Keys.Order());
    }

    [PrivilegedFact]
    public async Task AServiceWithoutEndpointsRefusesAtOnceFromTheNodeAPodAndOutside()
    {
        var empty = Service("ns1", "empty", EmptyIP, Port("http", 80, nodePort: 30081));
        empty.Spec.Type = "NodePort";
        _states.Add(empty);
        await SyncAsync();

        foreach (var (netns, address, port) in new[] { (_net.NodePath, EmptyIP, 80), (_net.BackendPath(1), EmptyIP, 80), (_net.OutsidePath, NodeNetns.NodeAddress, 30081) })
        {
            var refused = await Assert.ThrowsAsync<SocketException>(() => ServiceTestNetwork.AskTcpAsync(netns, address, port));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }
        Assert.Contains("-j REJECT", _proxier.LastRestore);
    }

    [PrivilegedFact]
    public async Task AFailedConnectToOneEndpointIsRetriedOnTheNext()
    {
        // 10.180.0.254 is the node's own bridge address: nothing listens on 8080 there, so a connect is refused.
        _states.Add(Service("ns1", "web", ClusterIP, Port("http", 80)))
            .Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Ep(ServiceTestNetwork.BackendIP(1)), Ep("10.180.0.254"), Ep(ServiceTestNetwork.BackendIP(2))));
        await SyncAsync();

        var counts = await ServiceTestNetwork.SpreadAsync(_net.NodePath, ClusterIP, 80, 30);

        Assert.Equal(["b1", "b2"], counts.Keys.Order());
        Assert.Equal(30, counts.Values.Sum());
        Assert.Contains(_log.Entries, e => e.Message.Contains("connect to endpoint 10.180.0.254:8080 failed (ConnectionRefused); trying the next endpoint"));
    }

    [PrivilegedFact]
    public async Task UdpDatagramsToTheClusterIPAndNodePortAreAnsweredByTheBackends()
    {
        var dns = Service("ns1", "dns", DnsIP, Port("dns", 53, "UDP", nodePort: 30053));
        dns.Spec.Type = "NodePort";
        _states.Add(dns).Add(Backends("dns", "dns", "UDP", ServiceTestNetwork.UdpPort, Three()));
        await SyncAsync();

        var names = new HashSet<string>();
        for (var i = 0; i < 9; i++)
        {
            names.Add((await ServiceTestNetwork.AskUdpAsync(_net.NodePath, DnsIP, 53)).Split(' ')[0]);
            names.Add((await ServiceTestNetwork.AskUdpAsync(_net.BackendPath(3), DnsIP, 53)).Split(' ')[0]);
            names.Add((await ServiceTestNetwork.AskUdpAsync(_net.OutsidePath, NodeNetns.NodeAddress, 30053)).Split(' ')[0]);
        }

        Assert.Equal(["b1", "b2", "b3"], names.Order());
    }

    [PrivilegedFact]
    public async Task AUdpClientKeepsItsEndpointWhileActiveAndTheIdleSessionExpires()
    {
        _states.Add(Service("ns1", "dns", DnsIP, Port("dns", 53, "UDP"))).Add(Backends("dns", "dns", "UDP", ServiceTestNetwork.UdpPort, Three()));
        await SyncAsync();
        using var client = NetworkNamespace.Run(_net.NodePath, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        client.Connect(IPAddress.Parse(DnsIP), 53);

        var first = await AskAsync(client);
        Assert.Equal(first, await AskAsync(client));
        Assert.Equal(1, _proxier.UdpSessions);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (_proxier.UdpSessions > 0)
        {
            await Task.Delay(50, deadline.Token);
        }
        // A new session: the next endpoint round-robin, from the same client address.
        var next = await AskAsync(client);
        Assert.NotEqual(first.Split(' ')[0], next.Split(' ')[0]);
    }

    [PrivilegedFact]
    public async Task AServicePortWhoseListenerCannotBeBoundIsSkippedWithALogLine()
    {
        // The node has no 10.99.0.1: every bind fails, yet the sync completes with the other rules.
        await using var proxier = Proxier(IPAddress.Parse("10.99.0.1"));
        _states.Add(Service("ns1", "web", ClusterIP, Port("http", 80))).Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));

        await proxier.SyncAsync(_states.Next(), true, CancellationToken.None);

        Assert.Contains(_log.Errors, e => e.StartsWith("Service ns1/web:http (tcp): cannot listen on 10.99.0.1: AddressNotAvailable", StringComparison.Ordinal));
        Assert.Null(proxier.ProxyPortOf(new ServicePortName(new ServiceName("ns1", "web"), "http")));
        Assert.DoesNotContain("REDIRECT", proxier.LastRestore);
        Assert.Contains("-I PREROUTING 1 -m comment --comment \"handle ClusterIPs", proxier.LastRestore);
    }

    private static async Task<string> AskAsync(Socket client)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await client.SendAsync(Encoding.ASCII.GetBytes("who"), guard.Token);
        var buffer = new byte[256];
        var n = await client.ReceiveAsync(buffer, guard.Token);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }
}
