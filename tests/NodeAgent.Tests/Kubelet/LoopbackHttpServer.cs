using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NodeAgent.Tests.Kubelet;

/// <summary>A real HTTP server on a free 127.0.0.1 port (System.Net.HttpListener) answering with a settable response.</summary>
public sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public LoopbackHttpServer()
    {
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}/pods");

    /// <summary>Status, body and ETag of the next responses; a 304 is sent instead when If-None-Match equals the ETag.</summary>
    public (int Status, string Body, string? ETag) Response { get; set; } = (200, string.Empty, null);

    public ConcurrentQueue<WebHeaderCollection> Requests { get; } = new();

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        // Close alone: Stop first would release the port, and Close then binds it again to remove the prefix,
        // failing with "address already in use" when a parallel test has just taken that port.
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (HttpListenerException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var headers = new WebHeaderCollection();
            foreach (var key in context.Request.Headers.AllKeys)
            {
                headers.Add(key!, context.Request.Headers[key]);
            }

            Requests.Enqueue(headers);
            var (status, body, etag) = Response;
            var response = context.Response;
            if (etag is not null && context.Request.Headers["If-None-Match"] == etag)
            {
                response.StatusCode = 304;
                response.Close();
                continue;
            }

            response.StatusCode = status;
            if (etag is not null)
            {
                response.Headers["ETag"] = etag;
            }

            var bytes = Encoding.UTF8.GetBytes(body);
            response.ContentLength64 = bytes.Length;
            await response.OutputStream.WriteAsync(bytes);
            response.Close();
        }
    }
}
