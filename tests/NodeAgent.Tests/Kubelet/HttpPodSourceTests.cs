using System.Threading.Channels;
using NodeAgent.Kubelet.Config;

namespace NodeAgent.Tests.Kubelet;

/// <summary>kubelet's http source (--manifest-url) against a real HTTP server on 127.0.0.1.</summary>
public sealed class HttpPodSourceTests : IAsyncLifetime
{
    private const string PodYaml = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
        spec:
          containers:
          - name: web
            image: nginx:1.27
        """;

    private readonly LoopbackHttpServer _server = new();
    private readonly HttpClient _client = new();
    private readonly ListLogger<HttpPodSource> _logger = new();
    private readonly Channel<PodSourceUpdate> _output = Channel.CreateUnbounded<PodSourceUpdate>();

    public Task InitializeAsync() => Task.CompletedTask;

    // xunit 2 runs IAsyncLifetime.DisposeAsync after each test; it does not call IAsyncDisposable.
    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private HttpPodSource Source(Uri? url = null, IReadOnlyDictionary<string, IReadOnlyList<string>>? headers = null) => new(
        new HttpPodSourceOptions { Url = url ?? _server.Url, NodeName = "node1", Headers = headers ?? new Dictionary<string, IReadOnlyList<string>>(), CheckFrequency = TimeSpan.FromHours(1) },
        _client,
        _logger,
        TimeProvider.System);

    [Fact]
    public async Task SinglePodIsServedWithHttpIdentity()
    {
        _server.Response = (200, PodYaml, null);
        using var cts = new CancellationTokenSource();
        var run = Source().RunAsync(_output.Writer, cts.Token);

        var snapshot = await _output.Reader.NextAsync();
        await cts.CancelAsync();
        await run;

        Assert.Equal("http", snapshot.Source);
        var pod = Assert.Single(snapshot.Pods);
        Assert.Equal("web-node1", pod.Metadata.Name);
        Assert.Equal("http", pod.Metadata.Annotations[ConfigAnnotations.Source]);
        Assert.Equal(32, pod.Metadata.Uid.Length);
    }

    [Fact]
    public async Task PodListIsServed()
    {
        _server.Response = (200, """
            {"apiVersion":"v1","kind":"PodList","items":[
              {"metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"busybox"}]}},
              {"metadata":{"name":"b"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}]}
            """, null);

        await Source().PollOnceAsync(_output.Writer, CancellationToken.None);

        Assert.Equal(["a-node1", "b-node1"], (await _output.Reader.NextAsync()).Pods.Select(p => p.Metadata.Name));
    }

    [Fact]
    public async Task MultiDocumentYamlIsServed()
    {
        _server.Response = (200, PodYaml + "\n---\n" + PodYaml.Replace("name: web\nspec", "name: api\nspec", StringComparison.Ordinal), null);

        await Source().PollOnceAsync(_output.Writer, CancellationToken.None);

        Assert.Equal(["web-node1", "api-node1"], (await _output.Reader.NextAsync()).Pods.Select(p => p.Metadata.Name));
    }

    [Fact]
    public async Task ConfiguredHeadersAreSent()
    {
        _server.Response = (200, PodYaml, null);
        var headers = ManifestUrlHeaders.Parse(["Authorization:Bearer abc", "X-Node:node1,X-Multi:a", "X-Multi:b"]);

        await Source(headers: headers).PollOnceAsync(_output.Writer, CancellationToken.None);

        Assert.True(_server.Requests.TryDequeue(out var request));
        Assert.Equal("Bearer abc", request["Authorization"]);
        Assert.Equal("node1", request["X-Node"]);
        Assert.Equal("a,b", request["X-Multi"]!.Replace(" ", string.Empty, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ETagGivesIfNoneMatchAnd304KeepsTheLastSnapshot()
    {
        _server.Response = (200, PodYaml, "\"v1\"");
        var source = Source();
        await source.PollOnceAsync(_output.Writer, CancellationToken.None);
        Assert.Single((await _output.Reader.NextAsync()).Pods);

        await source.PollOnceAsync(_output.Writer, CancellationToken.None);

        Assert.Equal(2, _server.Requests.Count);
        Assert.Equal("\"v1\"", _server.Requests.Last()["If-None-Match"]);
        Assert.False(_output.Reader.TryRead(out _));
        Assert.Empty(_logger.Errors);
    }

    [Fact]
    public async Task ServerErrorKeepsTheLastSnapshotAndIsLoggedOnce()
    {
        _server.Response = (200, PodYaml, null);
        var source = Source();
        await source.PollOnceAsync(_output.Writer, CancellationToken.None);
        await _output.Reader.NextAsync();
        _server.Response = (500, "boom", null);

        await source.PollOnceAsync(_output.Writer, CancellationToken.None);
        await source.PollOnceAsync(_output.Writer, CancellationToken.None);

        Assert.False(_output.Reader.TryRead(out _));
        var error = Assert.Single(_logger.Errors);
        Assert.Equal($"manifest URL {_server.Url}: unexpected status 500 Internal Server Error; keeping the last pods", error);
    }

    [Fact]
    public async Task ConnectionRefusedKeepsTheLastSnapshot()
    {
        var url = new Uri($"http://127.0.0.1:{LoopbackHttpServer.FreePort()}/pods");
        var source = Source(url);

        await source.PollOnceAsync(_output.Writer, CancellationToken.None);

        Assert.False(_output.Reader.TryRead(out _));
        var error = Assert.Single(_logger.Errors);
        Assert.StartsWith($"manifest URL {url}: ", error, StringComparison.Ordinal);
        Assert.Contains("refused", error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task InvalidContentKeepsTheLastSnapshot()
    {
        _server.Response = (200, PodYaml, null);
        var source = Source();
        await source.PollOnceAsync(_output.Writer, CancellationToken.None);
        await _output.Reader.NextAsync();
        _server.Response = (200, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n", null);

        await source.PollOnceAsync(_output.Writer, CancellationToken.None);
        await source.PollOnceAsync(_output.Writer, CancellationToken.None);

        Assert.False(_output.Reader.TryRead(out _));
        var error = Assert.Single(_logger.Errors);
        Assert.Contains($"{_server.Url}:6:15: pod \"web\": spec.containers: Required value", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmptyBodyMeansNoPods()
    {
        _server.Response = (200, PodYaml, null);
        var source = Source();
        await source.PollOnceAsync(_output.Writer, CancellationToken.None);
        await _output.Reader.NextAsync();
        _server.Response = (200, string.Empty, null);

        await source.PollOnceAsync(_output.Writer, CancellationToken.None);

        Assert.Empty((await _output.Reader.NextAsync()).Pods);
    }
}
