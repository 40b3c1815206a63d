using NodeAgent.Images;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Images;

/// <summary>Imports the archives hack/build-test-images.sh makes (NODEAGENT_TEST_IMAGES, or runs the script).</summary>
public sealed class TestImageArchiveTests
{
    private static string ImagesDir(TempDir tmp)
    {
        if (Environment.GetEnvironmentVariable("NODEAGENT_TEST_IMAGES") is { Length: > 0 } dir)
        {
            return dir;
        }
        var repo = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repo, "NodeAgent.sln")))
        {
            repo = Path.GetDirectoryName(repo) ?? throw new InvalidOperationException("NodeAgent.sln not found above the test binaries");
        }
        var output = LayerUnpackerTests.Run(Path.Combine(repo, "hack", "build-test-images.sh"), tmp.Combine("images"));
        Assert.Equal([tmp.Combine("images", "busybox.oci.tar"), tmp.Combine("images", "busybox.docker.tar")], output.Split('\n'));
        return tmp.Combine("images");
    }

    [PrivilegedFact]
    public async Task ImportsBusyboxOciAndDockerArchivesAndUnpacksThem()
    {
        using var tmp = new TempDir();
        var images = ImagesDir(tmp);
        var store = new ImageStore(tmp.Combine("root"));
        var snapshotter = new OverlaySnapshotter(store);

        var oci = Assert.Single(await store.ImportAsync(Path.Combine(images, "busybox.oci.tar"), CancellationToken.None));
        var docker = Assert.Single(await store.ImportAsync(Path.Combine(images, "busybox.docker.tar"), CancellationToken.None));

        Assert.Equal(["localhost/busybox:latest"], oci.RepoTags);
        Assert.Equal(oci.Id, docker.Id); // same config blob: one image with both names, as docker tag does
        Assert.Equal(["localhost/busybox:latest", "localhost/busybox-docker:latest"], docker.RepoTags);
        Assert.Equal(["sh"], oci.Config.Cmd);
        Assert.Contains("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", oci.Config.Env);
        var record = store.Resolve("localhost/busybox");
        Assert.NotNull(record);
        var layers = await snapshotter.EnsureLayersAsync(record, CancellationToken.None);
        var rootfs = Assert.Single(layers);
        Assert.True(File.Exists(Path.Combine(rootfs, "bin", "busybox")));
        Assert.Equal("/bin/busybox", new FileInfo(Path.Combine(rootfs, "bin", "sh")).LinkTarget);
        Assert.Contains("nobody:x:65534:65534", await File.ReadAllTextAsync(Path.Combine(rootfs, "etc", "passwd")));
        Assert.Equal(layers, await snapshotter.EnsureLayersAsync(store.Resolve("localhost/busybox-docker")!, CancellationToken.None));
    }
}
