using System.Net;
using System.Net.Sockets;
using NodeAgent.Linux;

namespace NodeAgent.Tests.Support;

/// <summary>
/// Makes a loopback port of the test's own network namespace reachable at the same loopback address and port inside
/// a namespace the test created (an agent there reaches the in-process test API server with the kubeconfig it would
/// use on the host), without a link between the two: the listening socket is made inside the namespace, each
/// accepted connection is paired with a connection made from here. Dispose closes everything.
/// </summary>
public sealed class NetnsTcpRelay : IDisposable
{
    private readonly Socket _listener;
    private readonly int _port;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _open = [];

    public NetnsTcpRelay(string netnsPath, int port)
    {
        _port = port;
        _listener = NetworkNamespace.Run(netnsPath, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        _listener.Listen(64);
        _ = Task.Run(AcceptAsync);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket inside;
            try
            {
                inside = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => PairAsync(inside));
        }
    }

    private async Task PairAsync(Socket inside)
    {
        using var outside = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using (inside)
        {
            lock (_open)
            {
                _open.Add(inside);
                _open.Add(outside);
            }
            try
            {
                await outside.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _port), _stop.Token);
                await Task.WhenAny(PumpAsync(inside, outside), PumpAsync(outside, inside));
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // The peer went away or the relay is closing: both ends are closed below.
            }
            finally
            {
                lock (_open)
                {
                    _open.Remove(inside);
                    _open.Remove(outside);
                }
            }
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16384];
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer, _stop.Token)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, n), _stop.Token);
            }
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Closed by either side.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        lock (_open)
        {
            foreach (var s in _open)
            {
                s.Dispose();
            }
        }
        _stop.Dispose();
    }
}
