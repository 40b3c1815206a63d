using System.Formats.Tar;
using NodeAgent.Images;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Images;

public sealed class ImageStoreImportTests
{
    private static byte[] BaseLayer() => OciTestImage.Tar(w =>
    {
        OciTestImage.Dir(w, "etc/");
        OciTestImage.File(w, "etc/hostname", "base\n");
    });

    private static byte[] AppLayer(string text) => OciTestImage.Tar(w => OciTestImage.File(w, "app.txt", text));

    private static string[] BlobFiles(string root) => Directory.GetFiles(Path.Combine(root, "content", "blobs", "sha256"));

    [Fact]
    public async Task ImportsOciArchiveAndResolvesByNameIdPrefixAndDigest()
    {
        using var tmp = new TempDir();
        var archive = tmp.Combine("app.oci.tar");
        OciTestImage.WriteOciArchive(archive, "localhost/app:1", [BaseLayer(), AppLayer("v1")]);
        var store = new ImageStore(tmp.Combine("root"));

        var images = await store.ImportAsync(archive, CancellationToken.None);

        var image = Assert.Single(images);
        Assert.Equal(["localhost/app:1"], image.RepoTags);
        Assert.Equal(2, image.DiffIds.Count);
        Assert.Equal(["sh"], image.Config.Cmd);
        Assert.Same(image.Id, image.Id);
        Assert.Equal(image.Id, store.Resolve("localhost/app:1")?.Id);
        Assert.Equal(image.Id, store.Resolve(image.Id)?.Id);
        Assert.Equal(image.Id, store.Resolve(image.Id[7..19])?.Id);
        Assert.Equal(image.Id, store.Resolve("sha256:" + image.Id[7..15])?.Id);
        Assert.Equal(image.Id, store.Resolve("localhost/app@" + image.ManifestDigest)?.Id);
        Assert.Null(store.Resolve("localhost/app:2"));
        Assert.Equal(4, BlobFiles(store.Root).Length); // two layers, config, manifest
        Assert.Single(new ImageStore(store.Root).List()); // persisted for another process
    }

    [Fact]
    public async Task AmbiguousIdPrefixResolvesToNothing()
    {
        using var tmp = new TempDir();
        var store = new ImageStore(tmp.Combine("root"));
        var ids = new List<string>();
        for (var i = 0; ids.Count < 2 || ids[0][7] != ids[^1][7]; i++)
        {
            var archive = tmp.Combine($"a{i}.tar");
            OciTestImage.WriteOciArchive(archive, $"localhost/a{i}:1", [AppLayer("x")], cmd: "c" + i);
            var id = (await store.ImportAsync(archive, CancellationToken.None))[0].Id;
            if (ids.Count == 0 || id[7] == ids[0][7])
            {
                ids.Add(id);
            }
            Assert.True(i < 200, "no two IDs with a shared first digit");
        }
        Assert.Null(store.Resolve(ids[0][7..8]));
        Assert.Equal(ids[0], store.Resolve(ids[0][7..71])?.Id);
    }

    [Fact]
    public async Task ImportsOciLayoutDirectoryWithNestedIndexPickingLinuxAmd64()
    {
        using var tmp = new TempDir();
        var archive = tmp.Combine("multi.tar");
        OciTestImage.WriteOciArchive(archive, "localhost/multi:1", [BaseLayer(), AppLayer("m")], nestedIndex: true);
        var layout = Directory.CreateDirectory(tmp.Combine("layout")).FullName;
        await System.Formats.Tar.TarFile.ExtractToDirectoryAsync(archive, layout, overwriteFiles: false);
        var store = new ImageStore(tmp.Combine("root"));

        var image = Assert.Single(await store.ImportAsync(layout, CancellationToken.None));

        Assert.Equal(["localhost/multi:1"], image.RepoTags);
        Assert.Equal("amd64", image.Config.Architecture);
        Assert.Equal(2, image.LayerDigests.Count);
        Assert.All(image.LayerDigests, d => Assert.True(store.Content.Exists(d)));
        Assert.True(Directory.Exists(layout)); // a layout directory is read, never consumed
        Assert.Equal(image.Id, store.Resolve("localhost/multi@" + image.ManifestDigest)?.Id);
    }

    [Fact]
    public async Task BareTagRefNameNamesImageAfterTheArchive()
    {
        using var tmp = new TempDir();
        var archive = tmp.Combine("MyApp.oci.tar");
        OciTestImage.WriteOciArchive(archive, "v2", [AppLayer("x")], annotationKey: "org.opencontainers.image.ref.name");
        var store = new ImageStore(tmp.Combine("root"));
        var image = Assert.Single(await store.ImportAsync(archive, CancellationToken.None));
        Assert.Equal(["localhost/myapp:v2"], image.RepoTags);
    }

    [Fact]
    public async Task CorruptBlobIsRejectedNamingBothDigestsAndLeavesNothing()
    {
        using var tmp = new TempDir();
        var archive = tmp.Combine("bad.tar");
        OciTestImage.WriteOciArchive(archive, "localhost/bad:1", [AppLayer("x")], corruptBlob: b => { var c = (byte[])b.Clone(); c[^1] ^= 0xff; return c; });
        var store = new ImageStore(tmp.Combine("root"));

        var e = await Assert.ThrowsAsync<ImageException>(() => store.ImportAsync(archive, CancellationToken.None));

        Assert.Equal(ImageErrorKind.Corrupt, e.Kind);
        Assert.Contains("digest mismatch: expected sha256:", e.Message);
        Assert.Contains(", got sha256:", e.Message);
        Assert.Contains(archive, e.Message);
        Assert.Empty(BlobFiles(store.Root));
        Assert.Empty(Directory.GetFiles(Path.Combine(store.Root, "content", "ingest")));
        Assert.Empty(store.List());
    }

    [Fact]
    public async Task TruncatedArchiveIsCorruptAndLeavesNothing()
    {
        using var tmp = new TempDir();
        var archive = tmp.Combine("full.tar");
        OciTestImage.WriteOciArchive(archive, "localhost/t:1", [BaseLayer(), AppLayer("x")]);
        var bytes = await File.ReadAllBytesAsync(archive);
        var truncated = tmp.Combine("truncated.tar");
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length * 2 / 3 + 100)]);
        var store = new ImageStore(tmp.Combine("root"));

        var e = await Assert.ThrowsAsync<ImageException>(() => store.ImportAsync(truncated, CancellationToken.None));

        Assert.Equal(ImageErrorKind.Corrupt, e.Kind);
        Assert.Contains(truncated, e.Message);
        Assert.Empty(BlobFiles(store.Root));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(store.Root, "tmp")));
        Assert.Empty(store.List());
    }

    [Fact]
    public async Task UnknownLayerMediaTypeIsUnsupported()
    {
        using var tmp = new TempDir();
        var store = new ImageStore(tmp.Combine("root"));
        var unknown = tmp.Combine("unknown.tar");
        OciTestImage.WriteOciArchive(unknown, "localhost/u:1", [AppLayer("x")], layerMediaType: "application/x-weird");

        var e = await Assert.ThrowsAsync<ImageException>(() => store.ImportAsync(unknown, CancellationToken.None));

        Assert.Equal(ImageErrorKind.Unsupported, e.Kind);
        Assert.Contains("application/x-weird", e.Message);
        Assert.Empty(BlobFiles(store.Root));
        Assert.Empty(store.List());
    }

    [Fact]
    public async Task ZstdLayerIsImportedAndUnpacked()
    {
        using var tmp = new TempDir();
        var store = new ImageStore(tmp.Combine("root"));
        var layer = AppLayer("zstd-content");
        using var compressor = new ZstdSharp.Compressor();
        var compressed = compressor.Wrap(layer).ToArray();
        var archive = tmp.Combine("zstd.tar");
        OciTestImage.WriteOciArchive(archive, "localhost/z:1", [layer], layerMediaType: "application/vnd.oci.image.layer.v1.tar+zstd",
            compress: _ => compressed);

        var image = Assert.Single(await store.ImportAsync(archive, CancellationToken.None));
        var dirs = await new OverlaySnapshotter(store).EnsureLayersAsync(image, CancellationToken.None);

        Assert.Equal(OciTestImage.Digest(compressed), image.LayerDigests[0]);
        Assert.Equal("zstd-content", File.ReadAllText(Path.Combine(dirs[0], "app.txt")));
    }

    [Fact]
    public async Task ImportsDockerSaveArchive()
    {
        using var tmp = new TempDir();
        var archive = tmp.Combine("docker.tar");
        OciTestImage.WriteDockerArchive(archive, "app:3", [BaseLayer(), AppLayer("d")]);
        var store = new ImageStore(tmp.Combine("root"));

        var image = Assert.Single(await store.ImportAsync(archive, CancellationToken.None));

        Assert.Equal(["docker.io/library/app:3"], image.RepoTags);
        Assert.Equal(image.Id, store.Resolve("app:3")?.Id);
        Assert.Equal(OciTestImage.Digest(BaseLayer()), image.DiffIds[0]);
        Assert.Equal(image.DiffIds, image.LayerDigests); // docker save layers are uncompressed
        Assert.True(store.Content.Exists(image.ManifestDigest));
    }

    [Fact]
    public async Task ConcurrentImportsOfOneArchiveYieldOneImage()
    {
        using var tmp = new TempDir();
        var archive = tmp.Combine("c.tar");
        OciTestImage.WriteOciArchive(archive, "localhost/c:1", [BaseLayer(), AppLayer("c")]);
        var root = tmp.Combine("root");

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => new ImageStore(root).ImportAsync(archive, CancellationToken.None))));

        Assert.Single(results.Select(r => r[0].Id).Distinct());
        var image = Assert.Single(new ImageStore(root).List());
        Assert.Equal(["localhost/c:1"], image.RepoTags);
        Assert.Equal(4, BlobFiles(root).Length);
    }

    [PrivilegedFact]
    public async Task RemoveKeepsSharedLayersAndDeletesTheRest()
    {
        using var tmp = new TempDir();
        var store = new ImageStore(tmp.Combine("root"));
        var snapshotter = new OverlaySnapshotter(store);
        var a = tmp.Combine("a.tar");
        var b = tmp.Combine("b.tar");
        OciTestImage.WriteOciArchive(a, "localhost/a:1", [BaseLayer(), AppLayer("a")]);
        OciTestImage.WriteOciArchive(b, "localhost/b:1", [BaseLayer(), AppLayer("b")]);
        var imageA = (await store.ImportAsync(a, CancellationToken.None))[0];
        var imageB = (await store.ImportAsync(b, CancellationToken.None))[0];
        var dirsA = await snapshotter.EnsureLayersAsync(imageA, CancellationToken.None);
        var dirsB = await snapshotter.EnsureLayersAsync(imageB, CancellationToken.None);
        Assert.Equal(dirsA[1], dirsB[1]); // base layer shared, unpacked once

        await store.RemoveAsync("localhost/a:1", CancellationToken.None);

        Assert.Null(store.Resolve("localhost/a:1"));
        Assert.False(Directory.Exists(dirsA[0]));
        Assert.True(Directory.Exists(dirsB[1]));
        Assert.True(Directory.Exists(dirsB[0]));
        Assert.False(store.Content.Exists(imageA.LayerDigests[1]));
        Assert.False(store.Content.Exists(imageA.Id));
        Assert.True(store.Content.Exists(imageB.LayerDigests[0]));
        Assert.Equal("base\n", await File.ReadAllTextAsync(Path.Combine(dirsB[1], "etc", "hostname")));
        var e = await Assert.ThrowsAsync<ImageException>(() => store.RemoveAsync("localhost/a:1", CancellationToken.None));
        Assert.Equal(ImageErrorKind.NotFound, e.Kind);
    }
}
