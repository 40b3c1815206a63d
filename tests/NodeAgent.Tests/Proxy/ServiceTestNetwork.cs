using System.Net;
using System.Net.Sockets;
using System.Text;
using NodeAgent.Linux;
using NodeAgent.Network.Netlink;
using NodeAgent.Tests.Network;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Proxy;

/// <summary>
/// A node to proxy on, made of network namespaces this test creates: the node (where the proxy's rules go; a
/// bridge 10.180.0.254/24 to the backends, an uplink 192.168.77.1/24 to the outside namespace, which is also its
/// default route), and backends b1..bN (10.180.0.i, each in its own namespace on the bridge) that answer every TCP
/// connection on 8080 and every UDP datagram on 5353 with "NAME CLIENT-IP". Dispose stops the servers and removes
/// every namespace, and with them every link and rule made here.
/// </summary>
public sealed class ServiceTestNetwork : IDisposable
{
    public const int TcpPort = 8080, UdpPort = 5353;

    private readonly TempDir _dir = new("nodeagent-proxy-traffic");
    private readonly NodeNetns _node;
    private readonly List<string> _backends = [];
    private readonly List<Socket> _sockets = [];
    private readonly CancellationTokenSource _stop = new();

    public ServiceTestNetwork(int backends)
    {
        _node = new NodeNetns(_dir.Path);
        try
        {
            NetworkNamespace.WriteSysctl(_node.NodePath, "net.ipv4.ip_forward", "1");
            RtNetlink.Run(_node.NodePath, n =>
            {
                n.CreateBridge("kube0", 1500);
                var bridge = n.LinkIndex("kube0")!.Value;
                n.SetUp(bridge, "kube0");
                n.AddAddress(bridge, "kube0", IPAddress.Parse("10.180.0.254"), 24);
                n.AddDefaultRoute(n.LinkIndex("uplink0")!.Value, "uplink0", IPAddress.Parse(NodeNetns.OutsideAddress));
                return true;
            });
            for (var i = 1; i <= backends; i++)
            {
                AddBackend(i);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string NodePath => _node.NodePath;

    public string OutsidePath => _node.OutsidePath;

    public static string BackendIP(int i) => $"10.180.0.{i}";

    /// <summary>Backend i's network namespace (1-based), where a client stands in for a pod.</summary>
    public string BackendPath(int i) => _backends[i - 1];

    private void AddBackend(int i)
    {
        var name = $"b{i}";
        var path = _dir.Combine(name + ".netns");
        NetworkNamespace.CreatePinned(path);
        _backends.Add(path);
        using (var ns = File.OpenHandle(path, FileMode.Open, FileAccess.Read))
        {
            RtNetlink.Run(_node.NodePath, n =>
            {
                n.CreateVeth($"veth{name}", n.LinkIndex("kube0"), "eth0", ns, 1500);
                n.SetUp(n.LinkIndex($"veth{name}")!.Value, $"veth{name}");
                return true;
            });
        }
        RtNetlink.Run(path, b =>
        {
            var eth = b.LinkIndex("eth0")!.Value;
            b.SetUp(eth, "eth0");
            b.AddAddress(eth, "eth0", IPAddress.Parse(BackendIP(i)), 24);
            b.AddDefaultRoute(eth, "eth0", IPAddress.Parse("10.180.0.254"));
            return true;
        });

        var tcp = NetworkNamespace.Run(path, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        _sockets.Add(tcp);
        tcp.Bind(new IPEndPoint(IPAddress.Any, TcpPort));
        tcp.Listen(512);
        _ = Task.Run(() => ServeTcpAsync(tcp, name));
        var udp = NetworkNamespace.Run(path, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        _sockets.Add(udp);
        udp.Bind(new IPEndPoint(IPAddress.Any, UdpPort));
        _ = Task.Run(() => ServeUdpAsync(udp, name));
    }

    private async Task ServeTcpAsync(Socket listener, string name)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            using (client)
            {
                var peer = ((IPEndPoint)client.RemoteEndPoint!).Address;
                await client.SendAsync(Encoding.ASCII.GetBytes($"{name} {peer}"));
                client.Shutdown(SocketShutdown.Both);
            }
        }
    }

    private async Task ServeUdpAsync(Socket socket, string name)
    {
        var buffer = new byte[1500];
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var got = await socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                var peer = (IPEndPoint)got.RemoteEndPoint;
                await socket.SendToAsync(Encoding.ASCII.GetBytes($"{name} {peer.Address}"), peer);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
        }
    }

    /// <summary>Connects over TCP from inside <paramref name="netns"/> and returns the answer ("NAME CLIENT-IP").
    /// A refused connection throws <see cref="SocketException"/> with <see cref="SocketError.ConnectionRefused"/>.</summary>
    public static async Task<string> AskTcpAsync(string netns, string address, int port)
    {
        using var socket = NetworkNamespace.Run(netns, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        // A safety net against a hang, not a timing assertion.
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await socket.ConnectAsync(IPAddress.Parse(address), port, guard.Token);
        var buffer = new byte[256];
        var total = 0;
        int n;
        while ((n = await socket.ReceiveAsync(buffer.AsMemory(total), guard.Token)) > 0)
        {
            total += n;
        }
        return Encoding.ASCII.GetString(buffer, 0, total);
    }

    /// <summary>How many of <paramref name="connections"/> TCP connections from <paramref name="netns"/> each backend
    /// answered, by name.</summary>
    public static async Task<Dictionary<string, int>> SpreadAsync(string netns, string address, int port, int connections)
    {
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < connections; i++)
        {
            var name = (await AskTcpAsync(netns, address, port)).Split(' ')[0];
            counts[name] = counts.GetValueOrDefault(name) + 1;
        }
        return counts;
    }

    /// <summary>Pearson's chi-square of <paramref name="counts"/> against an even spread over <paramref name="backends"/>.</summary>
    public static double ChiSquare(Dictionary<string, int> counts, string[] backends)
    {
        var expected = counts.Values.Sum() / (double)backends.Length;
        return backends.Sum(b => Math.Pow(counts.GetValueOrDefault(b) - expected, 2) / expected);
    }

    /// <summary>Sends one datagram from inside <paramref name="netns"/> (a new socket, so a new conntrack entry) and
    /// returns the answer.</summary>
    public static async Task<string> AskUdpAsync(string netns, string address, int port)
    {
        using var socket = NetworkNamespace.Run(netns, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        socket.Connect(IPAddress.Parse(address), port);
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await socket.SendAsync(Encoding.ASCII.GetBytes("who"), guard.Token);
        var buffer = new byte[256];
        var n = await socket.ReceiveAsync(buffer, guard.Token);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var s in _sockets)
        {
            s.Dispose();
        }
        foreach (var path in _backends)
        {
            NetworkNamespace.RemovePinned(path);
        }
        _node.Dispose();
        _dir.Dispose();
        _stop.Dispose();
    }
}
