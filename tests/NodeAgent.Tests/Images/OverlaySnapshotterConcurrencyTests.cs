using NodeAgent.Images;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Images;

public sealed class OverlaySnapshotterConcurrencyTests
{
    [PrivilegedFact]
    public async Task ConcurrentEnsureLayersUnpacksEachLayerOnce()
    {
        using var tmp = new TempDir();
        var archive = tmp.Combine("c.tar");
        var files = OciTestImage.Tar(w =>
        {
            for (var i = 0; i < 200; i++)
            {
                OciTestImage.File(w, $"d{i % 10}/f{i}", new string('x', i));
            }
        });
        OciTestImage.WriteOciArchive(archive, "localhost/c:1", [files]);
        var root = tmp.Combine("root");
        var image = (await new ImageStore(root).ImportAsync(archive, CancellationToken.None))[0];

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            var store = new ImageStore(root);
            return new OverlaySnapshotter(store).EnsureLayersAsync(image, CancellationToken.None);
        })));

        Assert.Single(results.Select(r => Assert.Single(r)).Distinct());
        Assert.Single(Directory.GetDirectories(Path.Combine(root, "snapshots", "layers")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(root, "snapshots", "tmp")));
        Assert.Equal(200, Directory.GetFiles(results[0][0], "*", SearchOption.AllDirectories).Length);
    }
}
