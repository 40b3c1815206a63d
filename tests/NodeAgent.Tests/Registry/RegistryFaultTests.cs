using NodeAgent.Registry;
using NodeAgent.Registry.Config;
using NodeAgent.Tests.Kubelet;

namespace NodeAgent.Tests.Registry;

/// <summary>What the network can do wrong: a mirror down, 404/401/500, a corrupt blob, a connection cut mid-layer.
/// Every failure names the image and the cause and leaves no blob, ingest file or snapshot behind.</summary>
public sealed class RegistryFaultTests(RegistryFixture registry) : IClassFixture<RegistryFixture>, IAsyncLifetime
{
    private RegistryProxy _proxy = null!;

    public Task InitializeAsync()
    {
        _proxy = new RegistryProxy(registry.Server);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

    private static PullRequest Http => new() { PlainHttp = true };

    private string Ref(string name) => $"{_proxy.Host}/{name}";

    private async Task<string[]> LayerDigestsAsync(string name)
    {
        using var s = new PullStore();
        var r = await s.Puller.PullAsync($"{registry.Server.Host}/{name}", Http, CancellationToken.None);
        return r.Image.LayerDigests.ToArray();
    }

    private static void AssertNothingLeft(PullStore s)
    {
        Assert.Empty(s.Blobs());
        Assert.Empty(s.Leftovers());
        Assert.Empty(s.Layers());
        Assert.Empty(s.Store.List());
    }

    [Fact]
    public async Task MirrorThatIsDownFallsBackToTheNextEndpoint()
    {
        var deadPort = LoopbackHttpServer.FreePort(); // nothing listens there any more
        var config = RegistryConfigParser.Parse(
            $"mirrors:\n  \"{registry.Server.Host}\":\n    endpoint:\n      - \"http://127.0.0.1:{deadPort}\"\n      - \"http://{_proxy.Host}\"\n", "registries.yaml");
        using var s = new PullStore(config);

        var r = await s.Puller.PullAsync($"{registry.Server.Host}/app:shared", Http, CancellationToken.None);

        Assert.Equal([$"{registry.Server.Host}/app:shared"], r.Image.RepoTags);
        Assert.Equal(1, _proxy.Hits["/v2/app/manifests/shared"]); // served by the second mirror, not the registry itself
    }

    [Fact]
    public async Task AllEndpointsDownNamesEachOne()
    {
        var dead1 = LoopbackHttpServer.FreePort();
        var dead2 = LoopbackHttpServer.FreePort();
        var config = RegistryConfigParser.Parse($"mirrors:\n  \"127.0.0.1:{dead2}\":\n    endpoint: [\"http://127.0.0.1:{dead1}\"]\n", "registries.yaml");
        using var s = new PullStore(config);

        var e = await Assert.ThrowsAsync<RegistryException>(() => s.Puller.PullAsync($"127.0.0.1:{dead2}/app:1", Http, CancellationToken.None));

        Assert.Equal(RegistryErrorKind.Unavailable, e.Kind);
        Assert.Contains($"127.0.0.1:{dead1}", e.Message);
        Assert.Contains($"127.0.0.1:{dead2}", e.Message);
        Assert.Contains("Connection refused", e.Message);
    }

    [Theory]
    [InlineData(500, RegistryErrorKind.Unavailable, "500")]
    [InlineData(401, RegistryErrorKind.Unauthorized, "401")]
    [InlineData(404, RegistryErrorKind.NotFound, "404")]
    public async Task ManifestErrorStatusIsReported(int status, RegistryErrorKind kind, string text)
    {
        _proxy.StatusFor["/manifests/multi"] = status;
        using var s = new PullStore();

        var e = await Assert.ThrowsAsync<RegistryException>(() => s.Puller.PullAsync(Ref("app:multi"), Http, CancellationToken.None));

        Assert.Equal(kind, e.Kind);
        Assert.Contains(text, e.Message);
        Assert.Contains(Ref("app:multi"), e.Message);
        AssertNothingLeft(s);
    }

    [Fact]
    public async Task BlobErrorStatusFailsThePullAndRemovesWhatItFetched()
    {
        var layers = await LayerDigestsAsync("app:multi");
        _proxy.StatusFor[layers[2]] = 500;
        using var s = new PullStore(options: new PullerOptions { Attempts = 2 });

        var e = await Assert.ThrowsAsync<RegistryException>(() => s.Puller.PullAsync(Ref("app:multi"), Http, CancellationToken.None));

        Assert.Equal(RegistryErrorKind.Unavailable, e.Kind);
        Assert.Contains(layers[2], e.Message);
        AssertNothingLeft(s);
    }

    [Fact]
    public async Task BlobWhoseContentDoesNotMatchItsDigestIsRejected()
    {
        var layers = await LayerDigestsAsync("app:multi");
        _proxy.Corrupt[layers[0]] = true;
        using var s = new PullStore();

        var e = await Assert.ThrowsAsync<RegistryException>(() => s.Puller.PullAsync(Ref("app:multi"), Http, CancellationToken.None));

        Assert.Equal(RegistryErrorKind.Corrupt, e.Kind);
        Assert.Contains("digest mismatch", e.Message);
        Assert.Contains(layers[0], e.Message);
        Assert.Contains("app:multi", e.Message);
        AssertNothingLeft(s);
    }

    [Theory]
    [InlineData(false)] // the connection is reset halfway through the layer
    [InlineData(true)]  // half the layer arrives, then nothing while the connection stays open
    public async Task DownloadCutOrStalledMidLayerIsRestarted(bool stall)
    {
        var layers = await LayerDigestsAsync("app:multi");
        (stall ? _proxy.Stall : _proxy.Cut)[layers[0]] = 1;
        using var s = new PullStore(options: new PullerOptions { IdleTimeout = TimeSpan.FromSeconds(1) });

        var r = await s.Puller.PullAsync(Ref("app:multi"), Http, CancellationToken.None);

        Assert.Equal(2, _proxy.Hits[$"/v2/app/blobs/{layers[0]}"]);
        Assert.True(s.Store.Content.Exists(layers[0]));
        Assert.Equal(3, r.Image.DiffIds.Count);
        Assert.Empty(s.Leftovers());
    }

    [Fact]
    public async Task ConnectionCutEveryTimeFailsCleanlyWhileAnotherPullSucceeds()
    {
        var layers = await LayerDigestsAsync("app:multi");
        _proxy.Cut[layers[0]] = 100;
        using var s = new PullStore(options: new PullerOptions { Attempts = 2 });

        var failing = s.Puller.PullAsync(Ref("app:multi"), Http, CancellationToken.None);
        var other = s.Puller.PullAsync(Ref("app:zstd"), Http, CancellationToken.None);

        var e = await Assert.ThrowsAsync<RegistryException>(() => failing);
        var ok = await other;
        Assert.Equal(RegistryErrorKind.Unavailable, e.Kind);
        Assert.Contains(layers[0], e.Message);
        Assert.Contains("2 attempts", e.Message);
        // Only the other image is left: none of the failed pull's blobs or snapshots.
        Assert.Equal([ok.Image.Id], s.Store.List().Select(i => i.Id));
        Assert.Equal(ok.Image.LayerDigests.Append(ok.Image.Id).Append(ok.Image.ManifestDigest).Select(d => d[7..]).Order(), s.Blobs().Order());
        Assert.Single(s.Layers());
        Assert.Empty(s.Leftovers());
    }
}
