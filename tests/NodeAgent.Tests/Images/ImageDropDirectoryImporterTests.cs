using NodeAgent.Images;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Images;

public sealed class ImageDropDirectoryImporterTests
{
    private static byte[] Layer(string text) => OciTestImage.Tar(w => OciTestImage.File(w, "f.txt", text));

    [Fact]
    public async Task ImportsExistingAndNewArchivesSkipsBadOnesAndRemembersAcrossRestarts()
    {
        using var tmp = new TempDir();
        var root = tmp.Combine("root");
        var drop = Directory.CreateDirectory(Path.Combine(root, "images")).FullName;
        OciTestImage.WriteOciArchive(Path.Combine(drop, "first.tar"), "localhost/first:1", [Layer("1")]);
        await File.WriteAllTextAsync(Path.Combine(drop, "bad.tar"), "this is not a tar archive, not even close....");
        var store = new ImageStore(root);
        var processed = new List<(string Path, Exception? Error)>();

        await using (var importer = new ImageDropDirectoryImporter(store, root))
        {
            var second = new TaskCompletionSource<IReadOnlyList<ImageRecord>?>(TaskCreationOptions.RunContinuationsAsynchronously);
            importer.ArchiveProcessed += (path, images, error) =>
            {
                lock (processed)
                {
                    processed.Add((path, error));
                }
                if (Path.GetFileName(path) == "second.tar")
                {
                    second.TrySetResult(images);
                }
            };
            await importer.StartAsync(CancellationToken.None);
            Assert.NotNull(store.Resolve("localhost/first:1"));
            Assert.Contains(processed, p => p.Path.EndsWith("bad.tar") && p.Error is ImageException { Kind: ImageErrorKind.Corrupt });

            var staged = tmp.Combine("second.tar");
            OciTestImage.WriteOciArchive(staged, "localhost/second:1", [Layer("2")]);
            File.Move(staged, Path.Combine(drop, "second.tar"));
            var imported = await second.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(["localhost/second:1"], Assert.Single(imported!).RepoTags);
        }

        var afterRestart = new List<string>();
        await using (var importer = new ImageDropDirectoryImporter(store, root))
        {
            importer.ArchiveProcessed += (path, _, _) => afterRestart.Add(path);
            await importer.StartAsync(CancellationToken.None);
        }
        Assert.Empty(afterRestart);
        Assert.Equal(2, store.List().Count);
    }
}
