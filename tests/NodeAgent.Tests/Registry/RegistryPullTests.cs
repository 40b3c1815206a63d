using NodeAgent.Images;
using NodeAgent.Registry;
using NodeAgent.Registry.Distribution;

namespace NodeAgent.Tests.Registry;

/// <summary>Pulls from a real docker-registry: tags, digests, indexes, Docker v2 schema 2, shared and zstd layers.</summary>
public sealed class RegistryPullTests(RegistryFixture registry) : IClassFixture<RegistryFixture>
{
    private static readonly PullRequest Http = new() { PlainHttp = true };

    private string Ref(string name) => $"{registry.Server.Host}/{name}";

    [Fact]
    public async Task PullsByTagUnpacksLayersAndSkipsThemTheSecondTime()
    {
        using var s = new PullStore();
        var progress = new List<PullProgress>();
        var result = await s.Puller.PullAsync(Ref("app:multi"), Http with { Progress = new SyncProgress(progress) }, CancellationToken.None);

        Assert.Equal([Ref("app:multi")], result.Image.RepoTags);
        Assert.Equal(3, result.Image.DiffIds.Count);
        Assert.Equal(result.Image.Id, s.Store.Resolve(Ref("app:multi"))?.Id);
        Assert.True(result.Downloaded > 0 && result.Downloaded <= result.Size);
        foreach (var diffId in result.Image.DiffIds)
        {
            Assert.True(Directory.Exists(s.Snapshotter.LayerPath(diffId)), $"layer {diffId} unpacked");
        }
        Assert.Equal("multi\n", File.ReadAllText(Path.Combine(s.Snapshotter.LayerPath(result.Image.DiffIds[2]), "app.txt")));
        Assert.True(progress.Last().Completed);
        Assert.Equal(3, progress.Last().LayersDone);

        var again = await s.Puller.PullAsync(Ref("app:multi"), Http, CancellationToken.None);
        Assert.Equal(0, again.Downloaded);
        Assert.Equal(result.Image.Id, again.Image.Id);
        Assert.Empty(s.Leftovers());
    }

    [Fact]
    public async Task LayersSharedWithAnotherImageAreNotDownloadedAgain()
    {
        using var s = new PullStore();
        var multi = await s.Puller.PullAsync(Ref("app:multi"), Http, CancellationToken.None);
        var shared = await s.Puller.PullAsync(Ref("app:shared"), Http, CancellationToken.None);

        Assert.Equal(multi.Image.LayerDigests[0], shared.Image.LayerDigests[0]);
        var baseSize = new FileInfo(s.Store.Content.BlobPath(shared.Image.LayerDigests[0])).Length;
        Assert.True(shared.Downloaded < shared.Size - baseSize + 1, $"downloaded {shared.Downloaded} of {shared.Size}, base {baseSize}");

        // Removing one image keeps the shared base layer for the other.
        await s.Store.RemoveAsync(multi.Image.Id, CancellationToken.None);
        Assert.True(s.Store.Content.Exists(shared.Image.LayerDigests[0]));
        Assert.True(Directory.Exists(s.Snapshotter.LayerPath(shared.Image.DiffIds[0])));
    }

    [Fact]
    public async Task PullsByDigestAndResolvesNameAtDigest()
    {
        using var s = new PullStore();
        var byTag = await s.Puller.PullAsync(Ref("app:shared"), Http, CancellationToken.None);
        var digest = byTag.Image.RepoDigests.Single().Split('@')[1];
        using var other = new PullStore();

        var byDigest = await other.Puller.PullAsync($"{Ref("app")}@{digest}", Http, CancellationToken.None);

        Assert.Equal(byTag.Image.Id, byDigest.Image.Id);
        Assert.Empty(byDigest.Image.RepoTags);
        Assert.Equal(byDigest.Image.Id, other.Store.Resolve($"{Ref("app")}@{digest}")?.Id);
    }

    [Fact]
    public async Task MultiPlatformIndexYieldsTheBestAmd64VariantTheCpuRuns()
    {
        using var s = new PullStore(options: new PullerOptions { Platform = new PlatformMatcher("linux", "amd64", 2) });
        var result = await s.Puller.PullAsync(Ref("app:index"), Http, CancellationToken.None);

        Assert.Equal("amd64-v2\n", File.ReadAllText(Path.Combine(s.Snapshotter.LayerPath(result.Image.DiffIds[0]), "platform")));
        // RepoDigests hold the index digest (as Docker records it), the image its platform manifest.
        Assert.NotEqual(result.Image.RepoDigests.Single().Split('@')[1], result.Image.ManifestDigest);
        Assert.Equal(result.Image.Id, s.Store.Resolve(result.Image.RepoDigests.Single())?.Id);
    }

    [Fact]
    public async Task DockerManifestListYieldsTheAmd64Image()
    {
        using var s = new PullStore(options: new PullerOptions { Platform = new PlatformMatcher("linux", "amd64", 1) });
        var result = await s.Puller.PullAsync(Ref("app:dockerlist"), Http, CancellationToken.None);

        Assert.Equal("amd64\n", File.ReadAllText(Path.Combine(s.Snapshotter.LayerPath(result.Image.DiffIds[0]), "platform")));
        using var manifest = new StreamReader(s.Store.Content.OpenRead(result.Image.ManifestDigest));
        Assert.Contains(MediaTypes.DockerManifest, await manifest.ReadToEndAsync());
    }

    [Fact]
    public async Task IndexWithoutThisPlatformIsUnsupportedAndLeavesNothing()
    {
        using var s = new PullStore();
        var e = await Assert.ThrowsAsync<RegistryException>(() => s.Puller.PullAsync(Ref("app:s390x"), Http, CancellationToken.None));

        Assert.Equal(RegistryErrorKind.Unsupported, e.Kind);
        Assert.Contains("linux/s390x", e.Message);
        Assert.Contains("app:s390x", e.Message);
        Assert.Empty(s.Blobs());
        Assert.Empty(s.Store.List());
    }

    [Fact]
    public async Task PullsDockerV2Schema2AndZstdLayers()
    {
        using var s = new PullStore();
        var docker = await s.Puller.PullAsync(Ref("docker:v2s2"), Http, CancellationToken.None);
        var zstd = await s.Puller.PullAsync(Ref("app:zstd"), Http, CancellationToken.None);

        using (var manifest = s.Store.Content.OpenRead(docker.Image.ManifestDigest))
        using (var reader = new StreamReader(manifest))
        {
            Assert.Contains(MediaTypes.DockerManifest, await reader.ReadToEndAsync());
        }
        Assert.True(File.Exists(Path.Combine(s.Snapshotter.LayerPath(docker.Image.DiffIds[0]), "bin", "busybox")));
        Assert.Equal("zstd\n", File.ReadAllText(Path.Combine(s.Snapshotter.LayerPath(zstd.Image.DiffIds[0]), "app.txt")));
    }

    [Fact]
    public async Task ConcurrentPullsOfOneImageShareOneDownload()
    {
        await using var proxy = new RegistryProxy(registry.Server);
        using var s = new PullStore();
        var reference = $"{proxy.Host}/app:multi";

        var pulls = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => s.Puller.PullAsync(reference, Http, CancellationToken.None)));

        Assert.All(pulls, p => Assert.Equal(pulls[0].Image.Id, p.Image.Id));
        Assert.Equal(1, proxy.Hits["/v2/app/manifests/multi"]);
        Assert.All(pulls[0].Image.LayerDigests, d => Assert.Equal(1, proxy.Hits[$"/v2/app/blobs/{d}"]));
    }

    [Fact]
    public async Task ConcurrentPullsOfImagesSharingALayerDownloadItOnce()
    {
        await using var proxy = new RegistryProxy(registry.Server);
        using var s = new PullStore();

        var both = await Task.WhenAll(
            s.Puller.PullAsync($"{proxy.Host}/app:multi", Http, CancellationToken.None),
            s.Puller.PullAsync($"{proxy.Host}/app:shared", Http, CancellationToken.None));

        var shared = both[0].Image.LayerDigests[0];
        Assert.Equal(shared, both[1].Image.LayerDigests[0]);
        Assert.Equal(1, proxy.Hits[$"/v2/app/blobs/{shared}"]);
        Assert.Equal(2, s.Store.List().Count);
    }

    [Fact]
    public async Task UnknownTagIsNotFoundNamingImageAndRegistry()
    {
        using var s = new PullStore();
        var e = await Assert.ThrowsAsync<RegistryException>(() => s.Puller.PullAsync(Ref("app:nope"), Http, CancellationToken.None));

        Assert.Equal(RegistryErrorKind.NotFound, e.Kind);
        Assert.Contains($"{registry.Server.Host}/app:nope", e.Message);
        Assert.Contains("404", e.Message);
        Assert.Empty(s.Blobs());
    }

    [Fact]
    public async Task InvalidReferenceIsRejectedBeforeAnyRequest()
    {
        using var s = new PullStore();
        var e = await Assert.ThrowsAsync<RegistryException>(() => s.Puller.PullAsync("UPPER/Case:1", Http, CancellationToken.None));
        Assert.Equal(RegistryErrorKind.InvalidReference, e.Kind);
        Assert.Contains("UPPER/Case:1", e.Message);
    }

    private sealed class SyncProgress(List<PullProgress> list) : IProgress<PullProgress>
    {
        public void Report(PullProgress value)
        {
            lock (list)
            {
                list.Add(value);
            }
        }
    }
}
