using System.Net;
using System.Net.Sockets;
using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Linux;

/// <summary>
/// Sockets made in other network namespaces on the calling thread, which joins the namespace and returns (what every
/// httpGet, tcpSocket and grpc probe uses): each belongs to the namespace it was asked for, the thread is back in
/// the process's own namespace afterwards, and a namespace that is gone is an error for that request only.
/// </summary>
public sealed class NamespaceSocketTests : IDisposable
{
    private readonly TempDir _dir = new("nodeagent-nssockets");
    private readonly string _a;
    private readonly string _b;

    public NamespaceSocketTests()
    {
        _a = _dir.Combine("a.netns");
        _b = _dir.Combine("b.netns");
        if (Privileged.SkipRequested)
        {
            return;
        }

        NetworkNamespace.CreatePinned(_a);
        NetworkNamespace.CreatePinned(_b);
    }

    public void Dispose()
    {
        NetworkNamespace.RemovePinned(_a);
        NetworkNamespace.RemovePinned(_b);
        _dir.Dispose();
    }

    private Socket Listener(string netns)
    {
        var listener = NetworkNamespace.CreateSocket(netns, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        return listener;
    }

    [PrivilegedFact]
    public async Task EachSocketBelongsToTheNamespaceItWasMadeFor()
    {
        // A listener on loopback in A: a client made for A reaches it, one made for B (its own loopback) is refused.
        using var inA = Listener(_a);
        var port = ((IPEndPoint)inA.LocalEndPoint!).Port;
        for (var round = 0; round < 3; round++)
        {
            using (var fromB = NetworkNamespace.CreateSocket(_b, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                var refused = await Assert.ThrowsAsync<SocketException>(() => fromB.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)));
                Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
            }

            using var fromA = NetworkNamespace.CreateSocket(_a, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await fromA.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            using var accepted = await inA.AcceptAsync();
            Assert.True(fromA.Connected);
        }

        // This thread is back home: a socket it makes now is the host's, which never sees A's listener.
        Assert.Equal(new FileInfo("/proc/self/ns/net").LinkTarget, new FileInfo("/proc/thread-self/ns/net").LinkTarget);
        using var host = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<SocketException>(() => host.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)));
    }

    [PrivilegedFact]
    public void AMissingNamespaceFailsThatRequestOnly()
    {
        Assert.ThrowsAny<Exception>(() => NetworkNamespace.CreateSocket(_dir.Combine("gone.netns"), AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        Assert.Equal(new FileInfo("/proc/self/ns/net").LinkTarget, new FileInfo("/proc/thread-self/ns/net").LinkTarget);
        using var next = NetworkNamespace.CreateSocket(_a, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Assert.NotNull(next);
    }
}
