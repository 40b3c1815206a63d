using System.Collections.Concurrent;
using System.Net;
using System.Text;
using NodeAgent.Tests.Kubelet;

namespace NodeAgent.Tests.Registry;

/// <summary>
/// A loopback HTTP proxy in front of a <see cref="RegistryServer"/> that does what a test needs the network to do:
/// demand bearer tokens (with its own token endpoint at <c>/token</c>, checking basic credentials), answer a path
/// with a fixed status, corrupt a blob's bytes, or cut the connection halfway through a blob. Counts requests per path.
/// </summary>
public sealed class RegistryProxy : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly HttpClient _upstream = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false });
    private readonly string _upstreamBase;
    private readonly Task _loop;
    private readonly string _token = Guid.NewGuid().ToString("N");

    public RegistryProxy(RegistryServer upstream)
    {
        _upstreamBase = $"http://{upstream.Host}";
        Port = LoopbackHttpServer.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string Host => $"127.0.0.1:{Port}";

    /// <summary>When set, /v2/ requests need a bearer token from /token, which wants these basic credentials.</summary>
    public (string User, string Password)? Bearer { get; set; }

    /// <summary>Answer requests whose path contains the key with the status instead of forwarding them.</summary>
    public ConcurrentDictionary<string, int> StatusFor { get; } = new();

    /// <summary>Blob digests whose content is altered in flight (same length, one byte flipped).</summary>
    public ConcurrentDictionary<string, bool> Corrupt { get; } = new();

    /// <summary>Blob digest → how many more times to cut the connection halfway through it.</summary>
    public ConcurrentDictionary<string, int> Cut { get; } = new();

    /// <summary>Blob digest → how many more times to send half of it and then nothing (the connection stays open).</summary>
    public ConcurrentDictionary<string, int> Stall { get; } = new();

    public ConcurrentDictionary<string, int> Hits { get; } = new();

    private readonly TaskCompletionSource _closing = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentQueue<string> TokenScopes { get; } = new();

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(ctx));
        }
    }

    private async Task HandleAsync(HttpListenerContext ctx)
    {
        var path = ctx.Request.Url!.AbsolutePath;
        Hits.AddOrUpdate(path, 1, (_, n) => n + 1);
        try
        {
            if (path == "/token")
            {
                await TokenAsync(ctx);
                return;
            }
            if (StatusFor.FirstOrDefault(kv => path.Contains(kv.Key, StringComparison.Ordinal)) is { Key: not null } forced)
            {
                await WriteAsync(ctx.Response, forced.Value, "{\"errors\":[{\"code\":\"FORCED\",\"message\":\"forced by the test proxy\"}]}",
                    forced.Value == 401 ? "Basic realm=\"test\"" : null);
                return;
            }
            if (Bearer is not null && ctx.Request.Headers["Authorization"] != "Bearer " + _token)
            {
                var repo = path.StartsWith("/v2/", StringComparison.Ordinal) && path.LastIndexOf("/manifests/", StringComparison.Ordinal) is var m and > 0
                    ? path[4..m]
                    : path.LastIndexOf("/blobs/", StringComparison.Ordinal) is var b and > 4 ? path[4..b] : "";
                await WriteAsync(ctx.Response, 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}",
                    $"Bearer realm=\"http://{Host}/token\",service=\"nodeagent-test\",scope=\"repository:{repo}:pull\"");
                return;
            }
            await ForwardAsync(ctx, path);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // the client went away
        }
    }

    private async Task TokenAsync(HttpListenerContext ctx)
    {
        TokenScopes.Enqueue(ctx.Request.QueryString["scope"] ?? "");
        var expected = Bearer is { } b ? "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{b.User}:{b.Password}")) : null;
        if (expected is not null && ctx.Request.Headers["Authorization"] != expected)
        {
            await WriteAsync(ctx.Response, 401, "{\"details\":\"bad credentials\"}", null);
            return;
        }
        await WriteAsync(ctx.Response, 200, $"{{\"token\":\"{_token}\",\"expires_in\":300}}", null);
    }

    private async Task ForwardAsync(HttpListenerContext ctx, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(ctx.Request.HttpMethod), _upstreamBase + ctx.Request.RawUrl);
        foreach (var accept in ctx.Request.AcceptTypes ?? [])
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }
        using var upstream = await _upstream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var response = ctx.Response;
        response.StatusCode = (int)upstream.StatusCode;
        foreach (var h in upstream.Headers.Concat(upstream.Content.Headers))
        {
            if (h.Key is "Content-Length" or "Transfer-Encoding" or "Connection" or "Keep-Alive")
            {
                continue;
            }
            response.Headers[h.Key] = string.Join(",", h.Value);
        }
        var body = await upstream.Content.ReadAsByteArrayAsync();
        var digest = path.Contains("/blobs/", StringComparison.Ordinal) ? path[(path.LastIndexOf('/') + 1)..] : null;
        if (digest is not null && Corrupt.ContainsKey(digest) && body.Length > 0)
        {
            body[body.Length / 2] ^= 0xff;
        }
        response.ContentLength64 = body.Length;
        if (digest is not null && Cut.TryGetValue(digest, out var times) && times > 0 && Cut.TryUpdate(digest, times - 1, times))
        {
            await response.OutputStream.WriteAsync(body.AsMemory(0, body.Length / 2));
            await response.OutputStream.FlushAsync();
            response.Abort(); // reset mid-body
            return;
        }
        if (digest is not null && Stall.TryGetValue(digest, out var stalls) && stalls > 0 && Stall.TryUpdate(digest, stalls - 1, stalls))
        {
            await response.OutputStream.WriteAsync(body.AsMemory(0, body.Length / 2));
            await response.OutputStream.FlushAsync();
            await _closing.Task; // hold the connection open without sending more, until the proxy is disposed
            response.Abort();
            return;
        }
        await response.OutputStream.WriteAsync(body);
        response.Close();
    }

    private static async Task WriteAsync(HttpListenerResponse response, int status, string body, string? authenticate)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        if (authenticate is not null)
        {
            response.Headers["WWW-Authenticate"] = authenticate;
        }
        var bytes = Encoding.UTF8.GetBytes(body);
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
        response.Close();
    }

    public async ValueTask DisposeAsync()
    {
        _closing.TrySetResult();
        // Close alone: Stop first would release the port, and Close then binds it again to remove the prefix,
        // failing with "address already in use" when a parallel test has just taken that port.
        _listener.Close();
        await _loop;
        _upstream.Dispose();
    }
}
