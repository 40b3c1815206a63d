using NodeAgent.Images;
using NodeAgent.Tests.Kubelet;
using NodeAgent.Tests.Registry;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Images;

/// <summary>kubelet's image GC on a real, small filesystem (a tmpfs the test mounts): thresholds, least recently
/// used first, images in use never removed, minimum age.</summary>
public sealed class ImageGarbageCollectorTests : IDisposable
{
    private const int LayerBytes = 1_100_000; // base64 text barely shrinks under gzip's fastest level: seven images fill 8 MiB past 85 %
    private readonly TempDir _dir = new("nodeagent-gc");
    private readonly FixedTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
    private bool _mounted;

    private string Mount(string size)
    {
        var target = _dir.Combine("fs");
        Directory.CreateDirectory(target);
        RepoPaths.Run("mount", "-t", "tmpfs", "-o", $"size={size}", "nodeagent-gc-test", target);
        _mounted = true;
        return target;
    }

    private async Task<ImageRecord> AddImageAsync(ImageStore store, string name, int seed)
    {
        // A layout directory outside the small filesystem: import copies only the blobs in.
        var layout = _dir.Combine(name);
        OciLayoutWriter.Write(layout, $"localhost/{name}:1", [new PlatformImage("linux", "amd64", null, [OciLayoutWriter.RandomLayer("data", LayerBytes, seed)])], asIndex: false);
        return Assert.Single(await store.ImportAsync(layout, CancellationToken.None));
    }

    [PrivilegedFact]
    public async Task OverHighThresholdRemovesLeastRecentlyUsedUnusedImagesDownToLowThreshold()
    {
        var store = new ImageStore(Mount("8m"));
        var images = new List<ImageRecord>();
        for (var i = 0; i < 7; i++)
        {
            var image = await AddImageAsync(store, $"img{i}", i);
            await store.TouchAsync(image.Id, _time.GetUtcNow().AddMinutes(i), CancellationToken.None);
            images.Add(image);
        }
        var inUse = new HashSet<string> { images[0].Id }; // the least recently used image, but a container has it
        var gc = new ImageGarbageCollector(store, () => inUse, new ImageGcPolicy { MinAge = TimeSpan.Zero }, _time);

        var result = await gc.CollectAsync(CancellationToken.None);

        Assert.True(result.UsagePercent >= 85, $"usage {result.UsagePercent}%");
        Assert.Equal([images[1].Id], result.Removed.Select(r => r.Id));
        Assert.Null(store.Resolve("localhost/img1:1"));
        Assert.NotNull(store.Resolve("localhost/img0:1"));
        Assert.True(result.BytesFreed >= result.BytesToFree, $"freed {result.BytesFreed} of {result.BytesToFree}");

        var again = await gc.CollectAsync(CancellationToken.None);
        Assert.Empty(again.Removed);
    }

    [PrivilegedFact]
    public async Task ImagesYoungerThanMinimumAgeAndImagesInUseAreKeptAndTheShortfallReported()
    {
        var store = new ImageStore(Mount("8m"));
        var images = new List<ImageRecord>();
        for (var i = 0; i < 7; i++)
        {
            images.Add(await AddImageAsync(store, $"img{i}", i));
        }
        var inUse = images.Take(3).Select(i => i.Id).ToHashSet();
        var gc = new ImageGarbageCollector(store, () => inUse, new ImageGcPolicy(), _time); // min age 2 minutes

        var young = await Assert.ThrowsAsync<ImageException>(() => gc.CollectAsync(CancellationToken.None));
        Assert.Contains("only found 0 bytes eligible to free", young.Message);
        Assert.Equal(7, store.List().Count);

        _time.Now += TimeSpan.FromMinutes(3);
        var result = await gc.CollectAsync(CancellationToken.None);
        Assert.NotEmpty(result.Removed);
        Assert.All(inUse, id => Assert.NotNull(store.Resolve(id)));
    }

    [PrivilegedFact]
    public async Task RemoveUnusedRemovesEveryImageNoContainerUses()
    {
        var store = new ImageStore(Mount("8m"));
        var keep = await AddImageAsync(store, "keep", 1);
        await AddImageAsync(store, "drop", 2);
        var gc = new ImageGarbageCollector(store, () => new HashSet<string> { keep.Id }, time: _time);

        var result = await gc.RemoveUnusedAsync(CancellationToken.None);

        Assert.Equal(["localhost/drop:1"], result.Removed.SelectMany(r => r.RepoTags));
        Assert.Equal([keep.Id], store.List().Select(i => i.Id));
    }

    [Theory]
    [InlineData(101, 80, "HighThresholdPercent 101")]
    [InlineData(85, -1, "LowThresholdPercent -1")]
    [InlineData(70, 80, "LowThresholdPercent 80 can not be higher than HighThresholdPercent 70")]
    public void InvalidPolicyIsRejected(int high, int low, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => new ImageGcPolicy { HighThresholdPercent = high, LowThresholdPercent = low }.Validate());
        Assert.Contains(expected, e.Message);
    }

    public void Dispose()
    {
        if (_mounted)
        {
            RepoPaths.Run("umount", _dir.Combine("fs"));
        }
        _dir.Dispose();
    }
}
