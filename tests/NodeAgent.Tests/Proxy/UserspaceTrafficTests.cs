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
/// Real traffic through the userspace proxier's listeners and rules: the shared scenarios
/// (<see cref="ServiceTrafficScenarios"/>), and the userspace mode's own: node ports and pods, the next endpoint after
/// a failed connect, UDP sessions and their idle timeout, a listener that cannot be bound.
/// </summary>
public sealed class UserspaceTrafficTests : ServiceTrafficScenarios
{
    private readonly ListLogger<UserspaceTrafficTests> _log = new();
    private readonly UserspaceProxier _proxier;

    public UserspaceTrafficTests()
    {
        _proxier = Proxier(IPAddress.Any);
    }

    private UserspaceProxier Proxier(IPAddress listen) => new(new NodeAgent.Linux.Iptables(new NodeCommand(Net.NodePath), IptablesBackend.Nft), new UserspaceSettings
    {
        NodeNetns = Net.NodePath,
        ListenAddress = listen,
        HostAddress = IPAddress.Parse(NodeNetns.NodeAddress),
        UdpIdleTimeout = TimeSpan.FromSeconds(2),
    }, _log);

    public override async Task DisposeAsync()
    {
        await _proxier.DisposeAsync();
        await base.DisposeAsync();
    }

    protected override async Task SyncAsync(bool full = true) => await _proxier.SyncAsync(States.Next(), full, CancellationToken.None);

    [PrivilegedFact]
    public async Task ClusterIPConnectionsFromAPodAndNodePortConnectionsFromOutsideReachEveryBackend()
    {
        var web = Service("ns1", "web", ClusterIP, Port("http", 80, nodePort: NodePort));
        web.Spec.Type = "NodePort";
        States.Add(web).Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));
        await SyncAsync();

        var fromPod = await ServiceTestNetwork.SpreadAsync(Net.BackendPath(1), ClusterIP, 80, 30);
        var fromOutside = await ServiceTestNetwork.SpreadAsync(Net.OutsidePath, NodeNetns.NodeAddress, NodePort, 30);
        var fromNode = await ServiceTestNetwork.SpreadAsync(Net.NodePath, NodeNetns.NodeAddress, NodePort, 30);

        Assert.Equal(["b1", "b2", "b3"], fromPod.Keys.Order());
        Assert.Equal(["b1", "b2", "b3"], fromOutside.Keys.Order());
        Assert.Equal(["b1", "b2", "b3"], fromNode.Keys.Order());
    }

    [PrivilegedFact]
    public async Task AFailedConnectToOneEndpointIsRetriedOnTheNext()
    {
        // 10.180.0.254 is the node's own bridge address: nothing listens on 8080 there, so a connect is refused.
        States.Add(Service("ns1", "web", ClusterIP, Port("http", 80)))
            .Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Ep(ServiceTestNetwork.BackendIP(1)), Ep("10.180.0.254"), Ep(ServiceTestNetwork.BackendIP(2))));
        await SyncAsync();

        var counts = await ServiceTestNetwork.SpreadAsync(Net.NodePath, ClusterIP, 80, 30);

        Assert.Equal(["b1", "b2"], counts.Keys.Order());
        Assert.Equal(30, counts.Values.Sum());
        Assert.Contains(_log.Entries, e => e.Message.Contains("connect to endpoint 10.180.0.254:8080 failed (ConnectionRefused); trying the next endpoint"));
    }

    [PrivilegedFact]
    public async Task UdpDatagramsToTheClusterIPAndNodePortAreAnsweredByTheBackends()
    {
        var dns = Service("ns1", "dns", DnsIP, Port("dns", 53, "UDP", nodePort: 30053));
        dns.Spec.Type = "NodePort";
        States.Add(dns).Add(Backends("dns", "dns", "UDP", ServiceTestNetwork.UdpPort, Three()));
        await SyncAsync();

        var names = new HashSet<string>();
        for (var i = 0; i < 9; i++)
        {
            names.Add((await ServiceTestNetwork.AskUdpAsync(Net.NodePath, DnsIP, 53)).Split(' ')[0]);
            names.Add((await ServiceTestNetwork.AskUdpAsync(Net.BackendPath(3), DnsIP, 53)).Split(' ')[0]);
            names.Add((await ServiceTestNetwork.AskUdpAsync(Net.OutsidePath, NodeNetns.NodeAddress, 30053)).Split(' ')[0]);
        }

        Assert.Equal(["b1", "b2", "b3"], names.Order());
    }

    [PrivilegedFact]
    public async Task AUdpClientKeepsItsEndpointWhileActiveAndTheIdleSessionExpires()
    {
        States.Add(Service("ns1", "dns", DnsIP, Port("dns", 53, "UDP"))).Add(Backends("dns", "dns", "UDP", ServiceTestNetwork.UdpPort, Three()));
        await SyncAsync();
        using var client = NetworkNamespace.Run(Net.NodePath, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
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
        States.Add(Service("ns1", "web", ClusterIP, Port("http", 80))).Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));

        await proxier.SyncAsync(States.Next(), true, CancellationToken.None);

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
