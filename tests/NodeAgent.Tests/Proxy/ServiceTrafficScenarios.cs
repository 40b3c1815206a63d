using System.Net.Sockets;
using k8s.Models;
using NodeAgent.Tests.Network;
using NodeAgent.Tests.Support;
using static NodeAgent.Tests.Proxy.ProxyObjects;

namespace NodeAgent.Tests.Proxy;

/// <summary>
/// The traffic scenarios every proxy mode must pass (issue #13), run against each mode by a subclass: a node namespace
/// holding the mode's rules (and listeners), three backend namespaces answering with their names
/// (<see cref="ServiceTestNetwork"/>), clients on the node, in a backend namespace (a pod) and outside the node.
/// </summary>
public abstract class ServiceTrafficScenarios : IAsyncLifetime
{
    protected const string ClusterIP = "172.30.0.41", EmptyIP = "172.30.0.44", StickyIP = "172.30.0.43", DnsIP = "172.30.0.10";
    protected const int NodePort = 30080;

    protected ServiceTrafficScenarios()
    {
        Net = new ServiceTestNetwork(3);
    }

    protected ServiceTestNetwork Net { get; }

    protected ProxyStates States { get; } = new("node-a");

    /// <summary>Programs what <see cref="States"/> recorded since the last sync, with the mode under test.</summary>
    protected abstract Task SyncAsync(bool full = true);

    /// <summary>b1 and b2 on this node (node-a), b3 on node-b.</summary>
    protected static V1Endpoint[] Three(bool b3Ready = true) =>
        [Ep(ServiceTestNetwork.BackendIP(1), node: "node-a"), Ep(ServiceTestNetwork.BackendIP(2), node: "node-a"), Ep(ServiceTestNetwork.BackendIP(3), ready: b3Ready, node: "node-b")];

    public Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync()
    {
        Net.Dispose();
        return Task.CompletedTask;
    }

    [PrivilegedFact]
    public async Task ClusterIPConnectionsFromTheNodeSpreadEvenlyOverEveryReadyBackend()
    {
        States.Add(Service("ns1", "web", ClusterIP, Port("http", 80))).Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));
        await SyncAsync();

        var counts = await ServiceTestNetwork.SpreadAsync(Net.NodePath, ClusterIP, 80, 300);

        string[] all = ["b1", "b2", "b3"];
        Assert.Equal(all, counts.Keys.Order());
        // 2 degrees of freedom: 9.210 is the 1 % critical value.
        var chi = ServiceTestNetwork.ChiSquare(counts, all);
        Assert.True(chi < 9.210, $"chi-square {chi:F2} over {string.Join(", ", counts.Select(c => $"{c.Key}={c.Value}"))}");
    }

    [PrivilegedFact]
    public async Task ClientIPAffinityPinsAClientToOneBackend()
    {
        var sticky = Service("ns1", "sticky", StickyIP, Port("http", 80));
        sticky.Spec.SessionAffinity = "ClientIP";
        States.Add(sticky).Add(Backends("sticky", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));
        await SyncAsync();

        var counts = await ServiceTestNetwork.SpreadAsync(Net.NodePath, StickyIP, 80, 40);

        Assert.Equal(40, Assert.Single(counts).Value);
    }

    [PrivilegedFact]
    public async Task AnEndpointThatTurnsUnreadyGetsNoNewConnections()
    {
        States.Add(Service("ns1", "web", ClusterIP, Port("http", 80))).Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));
        await SyncAsync();
        Assert.Contains("b3", (await ServiceTestNetwork.SpreadAsync(Net.NodePath, ClusterIP, 80, 60)).Keys);

        States.Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three(b3Ready: false)));
        await SyncAsync(full: false);
        var counts = await ServiceTestNetwork.SpreadAsync(Net.NodePath, ClusterIP, 80, 100);

        Assert.Equal(["b1", "b2"], counts.Keys.Order());
    }

    [PrivilegedFact]
    public async Task AServiceWithoutEndpointsRefusesAtOnceFromTheNodeAPodAndOutside()
    {
        var empty = Service("ns1", "empty", EmptyIP, Port("http", 80, nodePort: 30081));
        empty.Spec.Type = "NodePort";
        States.Add(empty);
        await SyncAsync();

        foreach (var (netns, address, port) in new[] { (Net.NodePath, EmptyIP, 80), (Net.BackendPath(1), EmptyIP, 80), (Net.OutsidePath, NodeNetns.NodeAddress, 30081) })
        {
            var refused = await Assert.ThrowsAsync<SocketException>(() => ServiceTestNetwork.AskTcpAsync(netns, address, port));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }
    }

    [PrivilegedFact]
    public async Task UdpDatagramsToTheClusterIPReachEveryBackend()
    {
        States.Add(Service("ns1", "dns", DnsIP, Port("dns", 53, "UDP"))).Add(Backends("dns", "dns", "UDP", ServiceTestNetwork.UdpPort, Three()));
        await SyncAsync();

        var names = new HashSet<string>();
        for (var i = 0; i < 30; i++)
        {
            // From the node: a backend asking through the proxy may be sent to itself, which needs the bridge's
            // hairpin mode (set by the agent's network, not by this test network) in the iptables mode.
            names.Add((await ServiceTestNetwork.AskUdpAsync(Net.NodePath, DnsIP, 53)).Split(' ')[0]);
        }

        Assert.Equal(["b1", "b2", "b3"], names.Order());
    }
}
