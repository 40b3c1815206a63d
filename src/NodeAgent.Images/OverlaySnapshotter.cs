using NodeAgent.Linux;

namespace NodeAgent.Images;

/// <summary>
/// Read-only layer snapshots under <c>&lt;root&gt;/snapshots/layers/&lt;diffid&gt;</c>, unpacked once and shared by
/// every image that has the layer; writable layers under <c>snapshots/containers/&lt;key&gt;</c>. It returns overlay
/// mounts and never mounts anything itself.
/// </summary>
public sealed class OverlaySnapshotter : ISnapshotter
{
    private readonly string _layers;
    private readonly string _containers;
    private readonly string _tmp;
    private readonly string _locks;
    private readonly ContentStore _content;

    public OverlaySnapshotter(string root, ImageStore images)
    {
        _content = images.Content;
        var snapshots = Path.Combine(root, "snapshots");
        _layers = Path.Combine(snapshots, "layers");
        _containers = Path.Combine(snapshots, "containers");
        _tmp = Path.Combine(snapshots, "tmp");
        _locks = Path.Combine(snapshots, "locks");
        foreach (var d in new[] { _layers, _containers, _tmp, _locks })
        {
            Directory.CreateDirectory(d);
        }
    }

    public string LayerPath(string diffId) => Path.Combine(_layers, ContentStore.Hex(diffId));

    public async Task<IReadOnlyList<string>> EnsureLayersAsync(ImageRecord image, CancellationToken cancellationToken)
    {
        var dirs = new List<string>();
        for (var i = 0; i < image.DiffIds.Count; i++)
        {
            var diffId = image.DiffIds[i];
            var dir = LayerPath(diffId);
            if (!Directory.Exists(dir))
            {
                await UnpackAsync(image, i, dir, cancellationToken);
            }

            dirs.Add(dir);
        }

        dirs.Reverse();
        return dirs;
    }

    private async Task UnpackAsync(ImageRecord image, int index, string dir, CancellationToken cancellationToken)
    {
        var diffId = image.DiffIds[index];
        var layer = image.LayerDigests[index];
        var name = image.RepoTags.FirstOrDefault() ?? image.Id;
        var what = $"image {name} layer {layer}";
        using var _ = FileLock.Acquire(Path.Combine(_locks, ContentStore.Hex(diffId) + ".lock"));
        if (Directory.Exists(dir))
        {
            return; // another process unpacked it while we waited
        }

        if (!_content.Exists(layer))
        {
            throw new ImageException(ImageErrorKind.NotFound, $"{what}: blob missing from the content store");
        }

        var tmp = Path.Combine(_tmp, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(tmp);
        try
        {
            await LayerUnpacker.UnpackAsync(_content.PathOf(layer), tmp, diffId, what, cancellationToken);
            Directory.Move(tmp, dir);
        }
        finally
        {
            if (Directory.Exists(tmp))
            {
                Directory.Delete(tmp, recursive: true);
            }
        }
    }

    public OverlayMount PrepareContainer(string key, IReadOnlyList<string> lowerDirs)
    {
        var dir = Path.Combine(_containers, key);
        var upper = Path.Combine(dir, "upper");
        var work = Path.Combine(dir, "work");
        Directory.CreateDirectory(upper);
        Directory.CreateDirectory(work);

        // overlayfs needs two lower layers or an upper layer; an image of one layer gets an empty second lower.
        var lowers = lowerDirs.Count > 0 ? lowerDirs : [CreateEmpty(dir)];
        return new OverlayMount(lowers, upper, work);
    }

    private static string CreateEmpty(string dir)
    {
        var empty = Path.Combine(dir, "empty");
        Directory.CreateDirectory(empty);
        return empty;
    }

    public void RemoveContainer(string key)
    {
        var dir = Path.Combine(_containers, key);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
