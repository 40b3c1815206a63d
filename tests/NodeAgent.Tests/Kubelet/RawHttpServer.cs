using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NodeAgent.Tests.Kubelet;

/// <summary>
/// A loopback TCP server speaking just enough HTTP/1.1 to misbehave on purpose: the test writes the raw response
/// (wrong Content-Length, endless or dripping bodies, redirect loops), which HttpListener refuses to produce.
/// </summary>
public sealed class RawHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _cts = new();
    private readonly Func<Stream, CancellationToken, Task> _respond;
    private readonly Task _loop;
    private int _requests;

    /// <param name="respond">Writes the whole response (status line, headers, body) for each request.</param>
    public RawHttpServer(Func<Stream, CancellationToken, Task> respond)
    {
        _respond = respond;
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Uri Url => new($"http://127.0.0.1:{Port}/pods");

    public int Requests => Volatile.Read(ref _requests);

    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _cts.Dispose();
    }

    private async Task LoopAsync()
    {
        while (!_cts.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_cts.Token);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var seen = new StringBuilder();
                var buffer = new byte[4096];
                while (!seen.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var n = await stream.ReadAsync(buffer, _cts.Token);
                    if (n == 0)
                    {
                        return;
                    }

                    seen.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }

                Interlocked.Increment(ref _requests);
                await _respond(stream, _cts.Token);
                await stream.FlushAsync(_cts.Token);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // The client went away (timeout test) or the server is stopping.
            }
        }
    }
}
