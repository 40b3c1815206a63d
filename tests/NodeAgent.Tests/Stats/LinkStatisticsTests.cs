using System.Net;
using System.Net.Sockets;
using NodeAgent.Linux;
using NodeAgent.Network.Netlink;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Stats;

/// <summary>
/// Interface counters through an rtnetlink dump, inside two network namespaces the test creates and joins with a
/// veth pair (10.251.0.1/24 and 10.251.0.2/24): traffic sent from one side raises the sender's transmit counters and
/// the receiver's receive counters. Disposing unpins both namespaces, which removes the pair.
/// </summary>
public sealed class LinkStatisticsTests : IDisposable
{
    private readonly TempDir _dir = new("nodeagent-linkstats");
    private readonly string _a;
    private readonly string _b;

    public LinkStatisticsTests()
    {
        _a = _dir.Combine("a.netns");
        _b = _dir.Combine("b.netns");
        if (Privileged.SkipRequested)
        {
            return;
        }

        NetworkNamespace.CreatePinned(_a);
        NetworkNamespace.CreatePinned(_b);
        using (var b = File.OpenHandle(_b, FileMode.Open, FileAccess.Read))
        {
            RtNetlink.Run(_a, n =>
            {
                n.CreateVeth("sa0", null, "sb0", b, 1500);
                var index = n.LinkIndex("sa0")!.Value;
                n.SetUp(index, "sa0");
                return n.AddAddress(index, "sa0", IPAddress.Parse("10.251.0.1"), 24);
            });
        }

        RtNetlink.Run(_b, n =>
        {
            var index = n.LinkIndex("sb0")!.Value;
            n.SetUp(index, "sb0");
            return n.AddAddress(index, "sb0", IPAddress.Parse("10.251.0.2"), 24);
        });
    }

    public void Dispose()
    {
        NetworkNamespace.RemovePinned(_a);
        NetworkNamespace.RemovePinned(_b);
        _dir.Dispose();
    }

    [PrivilegedFact]
    public async Task Traffic_raises_the_counters_of_both_ends()
    {
        using var inA = LinkStatistics.OpenIn(_a);
        using var inB = LinkStatistics.OpenIn(_b);
        var before = new List<LinkCounters>();
        inA.Read(before);
        Assert.Contains(before, l => l.Name == "lo");
        var sa0Before = Assert.Single(before, l => l.Name == "sa0");
        var sb0Before = Read(inB, "sb0");

        // 50 datagrams of 1000 bytes from A to B, sent from a thread inside A; B's receiver counts them in.
        var payload = new byte[1000];
        using var received = new SemaphoreSlim(0);
        var receiver = Task.Run(() => NetworkNamespace.Run(_b, () =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Parse("10.251.0.2"), 40000));
            socket.ReceiveTimeout = 30_000;
            received.Release();
            var buffer = new byte[2000];
            int got = 0;
            while (got < 50)
            {
                socket.Receive(buffer);
                got++;
            }

            return got;
        }));
        Assert.True(await received.WaitAsync(TimeSpan.FromSeconds(30)), "receiver never bound");
        NetworkNamespace.Run(_a, () =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            for (int i = 0; i < 50; i++)
            {
                socket.SendTo(payload, new IPEndPoint(IPAddress.Parse("10.251.0.2"), 40000));
            }

            return true;
        });
        Assert.Equal(50, await receiver.WaitAsync(TimeSpan.FromSeconds(60)));

        var sa0 = Read(inA, "sa0");
        var sb0 = Read(inB, "sb0");
        Assert.True(sa0.TxPackets - sa0Before.TxPackets >= 50, $"sa0 tx packets {sa0Before.TxPackets} → {sa0.TxPackets}");
        Assert.True(sa0.TxBytes - sa0Before.TxBytes >= 50 * 1000, $"sa0 tx bytes {sa0Before.TxBytes} → {sa0.TxBytes}");
        Assert.True(sb0.RxPackets - sb0Before.RxPackets >= 50, $"sb0 rx packets {sb0Before.RxPackets} → {sb0.RxPackets}");
        Assert.True(sb0.RxBytes - sb0Before.RxBytes >= 50 * 1000, $"sb0 rx bytes {sb0Before.RxBytes} → {sb0.RxBytes}");
        Assert.Equal((0UL, 0UL), (sa0.TxErrors, sb0.RxErrors));

        // The counters agree with /proc/thread-self/net/dev read from a thread inside A (fields: rx bytes, rx packets, …, tx bytes at 8, tx packets at 9).
        var dev = NetworkNamespace.Run(_a, () => File.ReadAllLines("/proc/thread-self/net/dev"));
        var fields = dev.Single(l => l.TrimStart().StartsWith("sa0:", StringComparison.Ordinal)).Split(':')[1]
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(f => ulong.Parse(f, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.True(fields[9] >= sa0.TxPackets && fields[8] >= sa0.TxBytes, $"/proc net/dev says {fields[9]} packets {fields[8]} bytes sent, netlink said {sa0.TxPackets}/{sa0.TxBytes} before it");
        Assert.True(fields[9] - sa0.TxPackets < 10, "netlink and /proc disagree by more than stray ARP/ND traffic");
    }

    [PrivilegedFact]
    public void Reading_does_not_leave_the_namespace_on_any_thread()
    {
        using var inA = LinkStatistics.OpenIn(_a);
        var links = new List<LinkCounters>();
        inA.Read(links);
        Assert.Equal(["lo", "sa0"], links.Select(l => l.Name).Order(StringComparer.Ordinal));

        // The caller's own namespace is not the test's: it has neither sa0 nor sb0.
        using var here = LinkStatistics.OpenHere();
        here.Read(links);
        Assert.DoesNotContain(links, l => l.Name is "sa0" or "sb0");
    }

    private static LinkCounters Read(LinkStatistics stats, string name)
    {
        var links = new List<LinkCounters>();
        stats.Read(links);
        return Assert.Single(links, l => l.Name == name);
    }
}
