using System.Net.Sockets;
using k8s.Models;
using NodeAgent.Linux;
using NodeAgent.Proxy;
using NodeAgent.Proxy.Iptables;
using NodeAgent.Tests.Kubelet;
using NodeAgent.Tests.Network;
using NodeAgent.Tests.Support;
using static NodeAgent.Tests.Proxy.ProxyObjects;

namespace NodeAgent.Tests.Proxy;

/// <summary>
/// Real traffic through the iptables proxier's rules: a node namespace holding the rules, three backend namespaces
/// answering with their names, clients on the node (cluster IP) and outside it (node port).
/// </summary>
public sealed class ProxyTrafficTests : IDisposable
{
    private const string ClusterIP = "172.30.0.41", EmptyIP = "172.30.0.44", StickyIP = "172.30.0.43", DnsIP = "172.30.0.10";
    private const int NodePort = 30080;

    private readonly ServiceTestNetwork _net;
    private readonly ListLogger<ProxyTrafficTests> _log = new();
    private readonly IptablesProxier _proxier;
    private readonly ProxyStates _states = new("node-a");

    public ProxyTrafficTests()
    {
        _net = new ServiceTestNetwork(3);
        _proxier = new IptablesProxier(new NodeAgent.Linux.Iptables(new NodeCommand(_net.NodePath)), new IptablesSettings(), _log);
    }

    public void Dispose() => _net.Dispose();

    private static V1Endpoint[] Three(bool b3Ready = true) =>
        [Ep(ServiceTestNetwork.BackendIP(1), node: "node-a"), Ep(ServiceTestNetwork.BackendIP(2), node: "node-a"), Ep(ServiceTestNetwork.BackendIP(3), ready: b3Ready, node: "node-b")];

    private async Task SyncAsync(bool full = true) => await _proxier.SyncAsync(_states.Next(), full, CancellationToken.None);

    [PrivilegedFact]
    public async Task ClusterIPConnectionsFromTheNodeSpreadEvenlyOverEveryReadyBackend()
    {
        var web = Service("ns1", "web", ClusterIP, Port("http", 80));
        _states.Add(web).Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));
        await SyncAsync();

        var counts = await ServiceTestNetwork.SpreadAsync(_net.NodePath, ClusterIP, 80, 300);

        string[] all = ["b1", "b2", "b3"];
        Assert.Equal(all, counts.Keys.Order());
        // 2 degrees of freedom: 9.210 is the 1 % critical value.
        var chi = ServiceTestNetwork.ChiSquare(counts, all);
        Assert.True(chi < 9.210, $"chi-square {chi:F2} over {string.Join(", ", counts.Select(c => $"{c.Key}={c.Value}"))}");
    }

    [PrivilegedFact]
    public async Task NodePortConnectionsFromOutsideReachEveryBackendMasqueraded()
    {
        var web = Service("ns1", "web", ClusterIP, Port("http", 80, nodePort: NodePort));
        web.Spec.Type = "NodePort";
        _states.Add(web).Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));
        await SyncAsync();

        var answers = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            answers.Add(await ServiceTestNetwork.AskTcpAsync(_net.OutsidePath, NodeNetns.NodeAddress, NodePort));
        }

        Assert.Equal(["b1", "b2", "b3"], answers.Select(a => a.Split(' ')[0]).Distinct().Order());
        // Cluster policy: the backend sees the node (masquerade), not the client.
        Assert.All(answers, a => Assert.EndsWith(" 10.180.0.254", a));
    }

    [PrivilegedFact]
    public async Task ExternalTrafficPolicyLocalKeepsTheClientSourceAndUsesOnlyLocalBackends()
    {
        var web = Service("ns1", "web", ClusterIP, Port("http", 80, nodePort: NodePort));
        web.Spec.Type = "NodePort";
        web.Spec.ExternalTrafficPolicy = "Local";
        _states.Add(web).Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));
        await SyncAsync();

        var answers = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            answers.Add(await ServiceTestNetwork.AskTcpAsync(_net.OutsidePath, NodeNetns.NodeAddress, NodePort));
        }

        Assert.All(answers, a => Assert.EndsWith($" {NodeNetns.OutsideAddress}", a));
        // b3 is on node-b: never chosen for external traffic.
        Assert.Equal(["b1", "b2"], answers.Select(a => a.Split(' ')[0]).Distinct().Order());
    }

    [PrivilegedFact]
    public async Task AServiceWithoutEndpointsRefusesAtOnceFromTheNodeAndFromOutside()
    {
        var empty = Service("ns1", "empty", EmptyIP, Port("http", 80, nodePort: 30081));
        empty.Spec.Type = "NodePort";
        _states.Add(empty);
        await SyncAsync();

        var fromNode = await Assert.ThrowsAsync<SocketException>(() => ServiceTestNetwork.AskTcpAsync(_net.NodePath, EmptyIP, 80));
        Assert.Equal(SocketError.ConnectionRefused, fromNode.SocketErrorCode);
        var fromOutside = await Assert.ThrowsAsync<SocketException>(() => ServiceTestNetwork.AskTcpAsync(_net.OutsidePath, NodeNetns.NodeAddress, 30081));
        Assert.Equal(SocketError.ConnectionRefused, fromOutside.SocketErrorCode);
    }

    [PrivilegedFact]
    public async Task ClientIPAffinityPinsAClientToOneBackend()
    {
        var sticky = Service("ns1", "sticky", StickyIP, Port("http", 80));
        sticky.Spec.SessionAffinity = "ClientIP";
        _states.Add(sticky).Add(Backends("sticky", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));
        await SyncAsync();

        var counts = await ServiceTestNetwork.SpreadAsync(_net.NodePath, StickyIP, 80, 40);

        Assert.Equal(40, Assert.Single(counts).Value);
    }

    [PrivilegedFact]
    public async Task AnEndpointThatTurnsUnreadyGetsNoNewConnections()
    {
        var web = Service("ns1", "web", ClusterIP, Port("http", 80));
        _states.Add(web).Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));
        await SyncAsync();
        Assert.Contains("b3", (await ServiceTestNetwork.SpreadAsync(_net.NodePath, ClusterIP, 80, 60)).Keys);

        _states.Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three(b3Ready: false)));
        await SyncAsync(full: false);
        var counts = await ServiceTestNetwork.SpreadAsync(_net.NodePath, ClusterIP, 80, 100);

        Assert.Equal(["b1", "b2"], counts.Keys.Order());
    }

    [PrivilegedFact]
    public async Task UdpDatagramsToTheClusterIPReachTheBackends()
    {
        var dns = Service("ns1", "dns", DnsIP, Port("dns", 53, "UDP"));
        _states.Add(dns).Add(Backends("dns", "dns", "UDP", ServiceTestNetwork.UdpPort, Three()));
        await SyncAsync();

        var names = new HashSet<string>();
        for (var i = 0; i < 60; i++)
        {
            names.Add((await ServiceTestNetwork.AskUdpAsync(_net.NodePath, DnsIP, 53)).Split(' ')[0]);
        }

        Assert.Equal(["b1", "b2", "b3"], names.Order());
    }

    [PrivilegedFact]
    public async Task ARemovedUdpEndpointsConntrackEntryIsDeletedAndTheNextDatagramGoesElsewhere()
    {
        var dns = Service("ns1", "dns", DnsIP, Port("dns", 53, "UDP"));
        _states.Add(dns).Add(Backends("dns", "dns", "UDP", ServiceTestNetwork.UdpPort, Ep(ServiceTestNetwork.BackendIP(1))));
        await SyncAsync();

        // One socket, so one flow: its entry stays while the socket keeps sending.
        using var client = NetworkNamespace.Run(_net.NodePath, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        client.Connect(System.Net.IPAddress.Parse(DnsIP), 53);
        Assert.StartsWith("b1 ", await AskAsync(client));
        var b1 = System.Net.IPAddress.Parse(ServiceTestNetwork.BackendIP(1));
        Assert.Contains(Conntrack.List(_net.NodePath), f => f.Protocol == Conntrack.Udp && f.ReplySource.Equals(b1) && f.OrigDestinationPort == 53);

        _states.Add(Backends("dns", "dns", "UDP", ServiceTestNetwork.UdpPort, Ep(ServiceTestNetwork.BackendIP(2))));
        await SyncAsync(full: false);

        Assert.DoesNotContain(Conntrack.List(_net.NodePath), f => f.ReplySource.Equals(b1));
        Assert.Contains(_log.Entries, e => e.Message.Contains("Deleted 1 UDP conntrack entries") && e.Message.Contains("10.180.0.1:5353"));
        // The same socket's next datagram is a new flow, to the endpoint that is left.
        Assert.StartsWith("b2 ", await AskAsync(client));
    }

    private static async Task<string> AskAsync(Socket client)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await client.SendAsync(System.Text.Encoding.ASCII.GetBytes("who"), guard.Token);
        var buffer = new byte[256];
        var n = await client.ReceiveAsync(buffer, guard.Token);
        return System.Text.Encoding.ASCII.GetString(buffer, 0, n);
    }
}
