using System.Threading.Channels;
using NodeAgent.Kubelet.Config;

namespace NodeAgent.Tests.Kubelet;

/// <summary>Hostile --manifest-url responses (issue #10): each is reported with the URL and byte counts, the last good
/// snapshot stays, nothing blocks and polling goes on.</summary>
public sealed class HttpPodSourceHostileTests : IAsyncLifetime
{
    private const string GoodPod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: nginx:1.27\n";
    private readonly HttpClient _client = HttpPodSource.CreateClient();
    private readonly ListLogger<HttpPodSource> _logger = new();
    private readonly Channel<PodSourceUpdate> _output = Channel.CreateUnbounded<PodSourceUpdate>();
    private readonly List<IAsyncDisposable> _servers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _client.Dispose();
        foreach (var s in _servers)
        {
            await s.DisposeAsync();
        }
    }

    private HttpPodSource Source(Uri url, TimeSpan? timeout = null) => new(
        new HttpPodSourceOptions { Url = url, NodeName = "node1", CheckFrequency = TimeSpan.FromHours(1), RequestTimeout = timeout ?? TimeSpan.FromSeconds(10) },
        _client,
        _logger,
        TimeProvider.System);

    private RawHttpServer Raw(Func<Stream, CancellationToken, Task> respond)
    {
        var server = new RawHttpServer(respond);
        _servers.Add(server);
        return server;
    }

    private LoopbackHttpServer Loopback()
    {
        var server = new LoopbackHttpServer();
        _servers.Add(server);
        return server;
    }

    [Fact]
    public async Task NullItemsBadQuantitiesAndGarbageKeepTheLastSnapshotAndPollingGoesOn()
    {
        var server = Loopback();
        var source = Source(server.Url);
        server.Response = (200, GoodPod, null);
        await source.PollOnceAsync(_output.Writer, CancellationToken.None);
        Assert.Single((await _output.Reader.NextAsync()).Pods);

        foreach (var bad in new[]
        {
            """{"apiVersion":"v1","kind":"PodList","items":[null]}""",
            GoodPod + "    resources:\n      limits:\n        memory: 1.5.5Gi\n",
            "\u0001\u0002garbage: [",
            "{\"apiVersion\":\"v1\",",
        })
        {
            server.Response = (200, bad, null);
            await source.PollOnceAsync(_output.Writer, CancellationToken.None);
        }

        Assert.False(_output.Reader.TryRead(out _));
        var errors = _logger.Errors.ToList();
        Assert.Contains(errors, e => e.Contains($"{server.Url}:1:", StringComparison.Ordinal) || e.Contains($"{server.Url}: items[0]: Required value: list items must not be null", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("limits[memory]: Invalid value: \"1.5.5Gi\"", StringComparison.Ordinal));
        Assert.All(errors, e => Assert.Contains(server.Url.ToString(), e, StringComparison.Ordinal));

        server.Response = (200, GoodPod.Replace("nginx:1.27", "nginx:1.28", StringComparison.Ordinal), null);
        await source.PollOnceAsync(_output.Writer, CancellationToken.None);
        Assert.Equal("nginx:1.28", Assert.Single((await _output.Reader.NextAsync()).Pods).Spec.Containers[0].Image);
    }

    [Fact]
    public async Task ARedirectLoopStopsAfterTenHopsNamingTheChain()
    {
        var server = Raw((s, ct) => s.WriteAsync(RawHttpServer.Ascii("HTTP/1.1 302 Found\r\nLocation: /pods\r\nContent-Length: 0\r\n\r\n"), ct).AsTask());

        await Source(server.Url).PollOnceAsync(_output.Writer, CancellationToken.None);

        var error = Assert.Single(_logger.Errors);
        Assert.StartsWith($"manifest URL {server.Url}: stopped after 10 redirects ({server.Url} -> {server.Url}", error, StringComparison.Ordinal);
        Assert.Equal(11, server.Requests);
    }

    [Fact]
    public async Task ARedirectToAClosedPortNamesTheChain()
    {
        var closed = $"http://127.0.0.1:{LoopbackHttpServer.FreePort()}/gone";
        var server = Raw((s, ct) => s.WriteAsync(RawHttpServer.Ascii($"HTTP/1.1 307 Temporary Redirect\r\nLocation: {closed}\r\nContent-Length: 0\r\n\r\n"), ct).AsTask());

        await Source(server.Url).PollOnceAsync(_output.Writer, CancellationToken.None);

        var error = Assert.Single(_logger.Errors);
        Assert.Contains("refused", error, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"(redirected: {server.Url} -> {closed})", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABodyShorterThanItsContentLengthIsReportedWithByteCounts()
    {
        var server = Raw(async (s, ct) =>
        {
            await s.WriteAsync(RawHttpServer.Ascii("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"), ct);
            await s.WriteAsync(RawHttpServer.Ascii(GoodPod[..40]), ct);
        });

        await Source(server.Url).PollOnceAsync(_output.Writer, CancellationToken.None);

        Assert.False(_output.Reader.TryRead(out _));
        var error = Assert.Single(_logger.Errors);
        Assert.StartsWith($"manifest URL {server.Url}: ", error, StringComparison.Ordinal);
        Assert.Contains("40 bytes", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATwentyMegabyteBodyIsRefusedFromItsContentLengthWithoutReadingIt()
    {
        var server = Raw(async (s, ct) =>
        {
            await s.WriteAsync(RawHttpServer.Ascii("HTTP/1.1 200 OK\r\nContent-Length: 20971520\r\n\r\n"), ct);
            await s.WriteAsync(new byte[64 * 1024], ct);
        });

        await Source(server.Url).PollOnceAsync(_output.Writer, CancellationToken.None);

        Assert.Equal($"manifest URL {server.Url}: the body is 20971520 bytes, larger than 3145728 (the API server's request size limit); not read; keeping the last pods", Assert.Single(_logger.Errors));
    }

    [Fact]
    public async Task AnEndlessChunkedBodyIsCutAtTheLimit()
    {
        var server = Raw(async (s, ct) =>
        {
            await s.WriteAsync(RawHttpServer.Ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), ct);
            var chunk = RawHttpServer.Ascii("10000\r\n" + new string('#', 0x10000) + "\r\n");
            for (var i = 0; i < 20 * 16; i++)
            {
                await s.WriteAsync(chunk, ct);
            }
        });

        await Source(server.Url).PollOnceAsync(_output.Writer, CancellationToken.None);

        var error = Assert.Single(_logger.Errors);
        Assert.Contains("the body is larger than 3145728 bytes", error, StringComparison.Ordinal);
        Assert.Contains("stopped reading after", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASlowDripBodyTimesOutNamingTheBytesReceived()
    {
        var server = Raw(async (s, ct) =>
        {
            await s.WriteAsync(RawHttpServer.Ascii("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"), ct);
            for (var i = 0; i < 100_000 && !ct.IsCancellationRequested; i++)
            {
                await s.WriteAsync(RawHttpServer.Ascii("#"), ct);
                await s.FlushAsync(ct);
                await Task.Delay(20, ct);
            }
        });

        await Source(server.Url, TimeSpan.FromMilliseconds(500)).PollOnceAsync(_output.Writer, CancellationToken.None);

        var error = Assert.Single(_logger.Errors);
        Assert.StartsWith($"manifest URL {server.Url}: no complete response within 0.5 s (", error, StringComparison.Ordinal);
        Assert.Contains("bytes of the body received", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AListThatFlipsEveryPollGivesASnapshotEachTime()
    {
        var server = Loopback();
        var source = Source(server.Url);
        var other = GoodPod.Replace("name: web\nspec", "name: api\nspec", StringComparison.Ordinal);
        for (var i = 0; i < 6; i++)
        {
            server.Response = (200, i % 2 == 0 ? GoodPod : other, null);
            await source.PollOnceAsync(_output.Writer, CancellationToken.None);
            Assert.Equal(i % 2 == 0 ? "web-node1" : "api-node1", Assert.Single((await _output.Reader.NextAsync()).Pods).Metadata.Name);
        }

        Assert.Empty(_logger.Errors);
    }
}
