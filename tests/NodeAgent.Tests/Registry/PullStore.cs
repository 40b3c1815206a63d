using NodeAgent.Images;
using NodeAgent.Registry;
using NodeAgent.Registry.Config;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Registry;

/// <summary>A fresh image store, snapshotter and puller in a temp dir for one test.</summary>
public sealed class PullStore : IDisposable
{
    private readonly TempDir _dir = new("nodeagent-pull");

    public PullStore(RegistryConfig? config = null, PullerOptions? options = null)
    {
        Store = new ImageStore(_dir.Combine("root"));
        Snapshotter = new OverlaySnapshotter(Store);
        Puller = new ImagePuller(Store, Snapshotter, config, options);
    }

    public ImageStore Store { get; }

    public OverlaySnapshotter Snapshotter { get; }

    public ImagePuller Puller { get; }

    public RegistryImageService Service => new(Store, Puller, Store.Root);

    public string[] Blobs() => Directory.GetFiles(Path.Combine(Store.Root, "content", "blobs", "sha256")).Select(Path.GetFileName).ToArray()!;

    public string[] Leftovers() =>
        Directory.GetFileSystemEntries(Path.Combine(Store.Root, "content", "ingest"))
            .Concat(Directory.GetFileSystemEntries(Path.Combine(Store.Root, "snapshots", "tmp")))
            .ToArray();

    public string[] Layers() => Directory.GetDirectories(Path.Combine(Store.Root, "snapshots", "layers"));

    public void Dispose()
    {
        Puller.Dispose();
        _dir.Dispose();
    }
}
