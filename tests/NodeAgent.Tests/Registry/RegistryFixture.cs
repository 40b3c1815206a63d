using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Registry;

/// <summary>
/// One docker-registry for a test class, with test images pushed by skopeo from layouts written here: busybox
/// (from the test image archive), a three-layer image, one sharing its base layer, a zstd image, a multi-platform
/// index and a Docker v2 schema 2 image. Stopped and deleted at the end even when tests fail.
/// </summary>
public sealed class RegistryFixture : IAsyncLifetime
{
    private readonly TempDir _layouts = new("nodeagent-layouts");

    public RegistryServer Server { get; private set; } = null!;

    public static readonly byte[] Base = OciLayoutWriter.RandomLayer("base.bin", 300_000, 1);
    public static readonly byte[] Middle = OciLayoutWriter.TextLayer("etc/app.conf", "mode=test\n");
    public static readonly byte[] Top = OciLayoutWriter.TextLayer("app.txt", "multi\n");

    public async Task InitializeAsync()
    {
        Server = await RegistryServer.StartAsync();
        await Server.PushAsync($"oci-archive:{TestImages.BusyboxOci}", "busybox:1");
        await PushLayoutAsync("multi", [new PlatformImage("linux", "amd64", null, [Base, Middle, Top])]);
        await PushLayoutAsync("shared", [new PlatformImage("linux", "amd64", null, [Base, OciLayoutWriter.TextLayer("app.txt", "shared\n")])]);
        await PushLayoutAsync("zstd", [new PlatformImage("linux", "amd64", null, [OciLayoutWriter.TextLayer("app.txt", "zstd\n")], Zstd: true)]);
        await PushLayoutAsync("index",
        [
            new PlatformImage("linux", "arm64", "v8", [OciLayoutWriter.TextLayer("platform", "arm64\n")]),
            new PlatformImage("linux", "amd64", null, [OciLayoutWriter.TextLayer("platform", "amd64\n")]),
            new PlatformImage("linux", "amd64", "v2", [OciLayoutWriter.TextLayer("platform", "amd64-v2\n")]),
            new PlatformImage("linux", "amd64", "v3", [OciLayoutWriter.TextLayer("platform", "amd64-v3\n")]),
        ], asIndex: true);
        await PushLayoutAsync("s390x", [new PlatformImage("linux", "s390x", null, [OciLayoutWriter.TextLayer("platform", "s390x\n")])], asIndex: true);
        await Server.PushAsync($"oci-archive:{TestImages.BusyboxOci}", "docker:v2s2", format: "v2s2");
        await Server.PushAsync($"oci:{_layouts.Combine("index")}:index", "app:dockerlist", all: true, format: "v2s2"); // a Docker manifest list
    }

    private async Task PushLayoutAsync(string tag, IReadOnlyList<PlatformImage> images, bool asIndex = false)
    {
        var dir = _layouts.Combine(tag);
        OciLayoutWriter.Write(dir, tag, images, asIndex);
        await Server.PushAsync($"oci:{dir}:{tag}", "app:" + tag, all: asIndex);
    }

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
        _layouts.Dispose();
    }
}
