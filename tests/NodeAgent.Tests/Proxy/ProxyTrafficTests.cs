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
/// Real traffic through the iptables proxier's rules: the shared scenarios (<see cref="ServiceTrafficScenarios"/>),
/// and the iptables mode's own: masquerade, externalTrafficPolicy Local, conntrack cleanup of removed UDP endpoints.
/// </summary>
public sealed class ProxyTrafficTests : ServiceTrafficScenarios
{
    private readonly ListLogger<ProxyTrafficTests> _log = new();
    private readonly IptablesProxier _proxier;

    public ProxyTrafficTests()
    {
        _proxier = new IptablesProxier(new NodeAgent.Linux.Iptables(new NodeCommand(Net.NodePath), IptablesBackend.Nft), new IptablesSettings(), _log);
    }

    protected override async Task SyncAsync(bool full = true) => await _proxier.SyncAsync(States.Next(), full, CancellationToken.None);

    [PrivilegedFact]
    public async Task NodePortConnectionsFromOutsideReachEveryBackendMasqueraded()
    {
        var web = Service("ns1", "web", ClusterIP, Port("http", 80, nodePort: NodePort));
        web.Spec.Type = "NodePort";
        States.Add(web).Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));
        await SyncAsync();

        var answers = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            answers.Add(await ServiceTestNetwork.AskTcpAsync(Net.OutsidePath, NodeNetns.NodeAddress, NodePort));
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
        States.Add(web).Add(Backends("web", "http", "TCP", ServiceTestNetwork.TcpPort, Three()));
        await SyncAsync();

        var answers = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            answers.Add(await ServiceTestNetwork.AskTcpAsync(Net.OutsidePath, NodeNetns.NodeAddress, NodePort));
        }

        Assert.All(answers, a => Assert.EndsWith($" {NodeNetns.OutsideAddress}", a));
        // b3 is on node-b: never chosen for external traffic.
        Assert.Equal(["b1", "b2"], answers.Select(a => a.Split(' ')[0]).Distinct().Order());
    }

    [PrivilegedFact]
    public async Task ARemovedUdpEndpointsConntrackEntryIsDeletedAndTheNextDatagramGoesElsewhere()
    {
        var dns = Service("ns1", "dns", DnsIP, Port("dns", 53, "UDP"));
        States.Add(dns).Add(Backends("dns", "dns", "UDP", ServiceTestNetwork.UdpPort, Ep(ServiceTestNetwork.BackendIP(1))));
        await SyncAsync();

        // One socket, so one flow: its entry stays while the socket keeps sending.
        using var client = NetworkNamespace.Run(Net.NodePath, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        client.Connect(System.Net.IPAddress.Parse(DnsIP), 53);
        Assert.StartsWith("b1 ", await AskAsync(client));
        var b1 = System.Net.IPAddress.Parse(ServiceTestNetwork.BackendIP(1));
        Assert.Contains(Conntrack.List(Net.NodePath), f => f.Protocol == Conntrack.Udp && f.ReplySource.Equals(b1) && f.OrigDestinationPort == 53);

        States.Add(Backends("dns", "dns", "UDP", ServiceTestNetwork.UdpPort, Ep(ServiceTestNetwork.BackendIP(2))));
        await SyncAsync(full: false);

        Assert.DoesNotContain(Conntrack.List(Net.NodePath), f => f.ReplySource.Equals(b1));
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
