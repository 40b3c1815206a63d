using NodeAgent.Linux;
using NodeAgent.Cri;
namespace NodeAgent.Images;

/// <summary>
/// Layer snapshots under <c>&lt;root&gt;/snapshots/layers/&lt;diffid-hex&gt;</c> (unpacked once, shared between
/// images, under a per-layer flock, via a temp dir and an atomic rename) and per-container writable
/// layers under <c>&lt;root&gt;/snapshots/containers/&lt;key&gt;/{upper,work}</c>. Returns mounts; never mounts.
/// </summary>
public sealed class OverlaySnapshotter : ISnapshotter
{
    private readonly string _layers;
    private readonly string _containers;
    private readonly string _tmp;
    private readonly string _locks;
    private readonly ContentStore _content;

    public OverlaySnapshotter(string root, ContentStore content)
    {
        var full = System.IO.Path.GetFullPath(root);
        _layers = LayersDir(full);
        _containers = System.IO.Path.Combine(full, "snapshots", "containers");
        _tmp = System.IO.Path.Combine(full, "snapshots", "tmp");
        _locks = System.IO.Path.Combine(full, "snapshots", "locks");
        _content = content;
        foreach (var d in new[] { _layers, _containers, _tmp, _locks })
        {
            Directory.CreateDirectory(d);
        }
    }

    /// <summary>Convenience for the common case: the store's own content.</summary>
    public OverlaySnapshotter(ImageStore store) : this(store.Root, store.Content)
    {
    }

    public string LayerPath(string diffId) => System.IO.Path.Combine(_layers, ContentStore.Hex(diffId));

    public async Task<IReadOnlyList<string>> EnsureLayersAsync(ImageRecord image, CancellationToken cancellationToken)
    {
        var name = image.RepoTags.Count > 0 ? ImageReference.Parse(image.RepoTags[0]).Familiar : image.Id;
        var dirs = new List<string>();
        for (var i = 0; i < image.DiffIds.Count; i++)
        {
            var what = $"image {name} layer {image.LayerDigests[i]}";
            dirs.Add(await EnsureLayerAsync(image.DiffIds[i], image.LayerDigests[i], what, cancellationToken));
        }
        dirs.Reverse();
        return dirs;
    }

    /// <summary>Unpacks one layer blob into its snapshot unless it is already there (a pull unpacks each layer as
    /// soon as it is downloaded, in parallel with the others: layer snapshots are independent directories).</summary>
    public async Task<string> EnsureLayerAsync(string diffId, string blobDigest, string what, CancellationToken cancellationToken)
    {
        var final = LayerPath(diffId);
        if (Directory.Exists(final))
        {
            return final;
        }
        using var held = await FileLock.AcquireAsync(System.IO.Path.Combine(_locks, ContentStore.Hex(diffId) + ".lock"), cancellationToken);
        if (Directory.Exists(final))
        {
            return final;
        }
        if (!_content.Exists(blobDigest))
        {
            throw new ImageException(ImageErrorKind.NotFound, $"{what}: blob is missing from the content store");
        }
        var temp = System.IO.Path.Combine(_tmp, ContentStore.Hex(diffId)[..12] + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        try
        {
            await using (var blob = _content.OpenRead(blobDigest))
            {
                await new LayerUnpacker(temp, what).UnpackAsync(blob, diffId, cancellationToken);
            }
            Directory.Move(temp, final);
            return final;
        }
        catch
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }
            throw;
        }
    }

    public OverlayMount PrepareContainer(string key, IReadOnlyList<string> lowerDirs)
    {
        ValidateKey(key);
        var dir = System.IO.Path.Combine(_containers, key);
        var upper = System.IO.Path.Combine(dir, "upper");
        var work = System.IO.Path.Combine(dir, "work");
        Directory.CreateDirectory(upper);
        Directory.CreateDirectory(work);
        return new OverlayMount(lowerDirs, upper, work);
    }

    public string WritableLayerPath(string key)
    {
        ValidateKey(key);
        return System.IO.Path.Combine(_containers, key, "upper");
    }

    public void RemoveContainer(string key)
    {
        ValidateKey(key);
        var dir = System.IO.Path.Combine(_containers, key);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public IReadOnlyList<string> ContainerKeys() =>
        Directory.Exists(_containers) ? [.. Directory.EnumerateDirectories(_containers).Select(System.IO.Path.GetFileName).OfType<string>().Where(IsValidKey)] : [];

    internal static string LayersDir(string root) => System.IO.Path.Combine(root, "snapshots", "layers");

    /// <summary>Deletes a layer snapshot (under its lock) once no image uses it.</summary>
    internal static void DeleteLayer(string root, string diffId)
    {
        var hex = ContentStore.Hex(diffId);
        var dir = System.IO.Path.Combine(LayersDir(root), hex);
        using var held = FileLock.Acquire(System.IO.Path.Combine(root, "snapshots", "locks", hex + ".lock"));
        if (Directory.Exists(dir))
        {
            var doomed = System.IO.Path.Combine(root, "snapshots", "tmp", "rm-" + Guid.NewGuid().ToString("N"));
            Directory.Move(dir, doomed);
            Directory.Delete(doomed, recursive: true);
        }
    }

    private static bool IsValidKey(string key) =>
        !(key.Length == 0 || key.Length > 255 || key is "." or ".." || key.Contains('/') || key.Contains('\0'));

    private static void ValidateKey(string key)
    {
        if (!IsValidKey(key))
        {
            throw new ImageException(ImageErrorKind.InvalidReference, $"container snapshot key \"{key}\": must be a non-empty name without '/'");
        }
    }
}
