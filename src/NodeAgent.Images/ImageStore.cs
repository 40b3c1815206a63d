using NodeAgent.Linux;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Cri;

namespace NodeAgent.Images;

/// <summary>
/// The image store over one root directory: content blobs, image metadata and (through
/// <see cref="OverlaySnapshotter"/>) layer snapshots. Several processes may share a root.
/// </summary>
public sealed class ImageStore : IImageStore
{
    private readonly ImageMetadataStore _metadata;
    private readonly ILogger _logger;

    public ImageStore(string root, ILogger? logger = null)
    {
        Root = System.IO.Path.GetFullPath(root);
        Content = new ContentStore(Root);
        _metadata = new ImageMetadataStore(Root);
        _logger = logger ?? NullLogger.Instance;
    }

    public string Root { get; }

    public ContentStore Content { get; }

    public async Task<IReadOnlyList<ImageRecord>> ImportAsync(string path, CancellationToken cancellationToken)
    {
        var source = System.IO.Path.GetFullPath(path);
        using var held = await FileLock.AcquireAsync(_metadata.LockPath, cancellationToken);
        var created = new List<string>();
        string? staging = null;
        try
        {
            var dir = source;
            if (!Directory.Exists(source))
            {
                if (!File.Exists(source))
                {
                    throw new ImageException(ImageErrorKind.NotFound, $"image archive {source}: no such file or directory");
                }
                staging = System.IO.Path.Combine(Root, "tmp", "import-" + Guid.NewGuid().ToString("N"));
                Directory.CreateDirectory(staging);
                await ArchiveStager.ExtractAsync(source, staging, cancellationToken);
                dir = staging;
            }
            List<ImportedImage> imported;
            if (File.Exists(System.IO.Path.Combine(dir, "index.json")))
            {
                imported = await new OciLayoutImporter(Content, dir, source, created).ImportAsync(cancellationToken);
            }
            else if (File.Exists(System.IO.Path.Combine(dir, "manifest.json")))
            {
                imported = await new DockerArchiveImporter(Content, dir, source, created).ImportAsync(cancellationToken);
            }
            else
            {
                throw new ImageException(ImageErrorKind.Corrupt, $"image archive {source}: neither index.json (OCI) nor manifest.json (docker save) found");
            }
            var records = imported.Select(i => ToRecord(i, source)).ToList();
            var images = _metadata.Load();
            foreach (var record in records)
            {
                Merge(images, record);
            }
            _metadata.Save(images);
            foreach (var r in records)
            {
                _logger.LogInformation("imported image {Id} ({Names}) from {Source}", r.Id, string.Join(", ", r.RepoTags), source);
            }
            return records.Select(r => images.First(i => i.Id == r.Id)).ToList();
        }
        catch (Exception ex)
        {
            var referenced = Referenced(_metadata.Load());
            foreach (var digest in created.Where(d => !referenced.Contains(d)))
            {
                Content.Delete(digest);
            }

            if (ex is IOException or UnauthorizedAccessException)
            {
                // A full disk, a read error: name the archive, keep the cause.
                throw new ImageException(ImageErrorKind.Io, $"image archive {source}: {ex.Message}", ex);
            }

            throw;
        }
        finally
        {
            if (staging is not null && Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    public ImageRecord? Resolve(string reference) => Resolve(_metadata.Load(), reference);

    public IReadOnlyList<ImageRecord> List() => _metadata.Load();

    public async Task RemoveAsync(string reference, CancellationToken cancellationToken)
    {
        using var held = await FileLock.AcquireAsync(_metadata.LockPath, cancellationToken);
        var images = _metadata.Load();
        var image = Resolve(images, reference) ?? throw new ImageException(ImageErrorKind.NotFound, $"image {reference}: not found");
        images.RemoveAll(i => i.Id == image.Id);
        _metadata.Save(images);
        var referenced = Referenced(images);
        foreach (var digest in Content.ListDigests().Where(d => !referenced.Contains(d)))
        {
            Content.Delete(digest);
        }
        var liveLayers = images.SelectMany(i => i.DiffIds).Select(ContentStore.Hex).ToHashSet();
        foreach (var diffId in image.DiffIds.Where(d => !liveLayers.Contains(ContentStore.Hex(d))))
        {
            OverlaySnapshotter.DeleteLayer(Root, diffId);
        }
        _logger.LogInformation("removed image {Id} ({Names})", image.Id, string.Join(", ", image.RepoTags));
    }

    /// <summary>
    /// Records an image whose manifest, config and layer blobs a registry pull has verified into the content store.
    /// All or nothing: every blob must be present, the config must list one diff ID per layer; then the record
    /// appears in one atomic metadata write. A reference with a tag names the image; name@digest goes to RepoDigests.
    /// </summary>
    public async Task<ImageRecord> CommitPullAsync(PulledImage pulled, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var reference = ImageReference.Parse(pulled.Reference);
        var what = $"image {reference.Familiar}";
        using var held = await FileLock.AcquireAsync(_metadata.LockPath, cancellationToken);
        foreach (var digest in pulled.LayerDigests.Append(pulled.ConfigDigest).Append(pulled.ManifestDigest))
        {
            if (!Content.Exists(digest))
            {
                throw new ImageException(ImageErrorKind.NotFound, $"{what}: blob {digest} disappeared from the content store before the pull was committed");
            }
        }
        var configBytes = await File.ReadAllBytesAsync(Content.BlobPath(pulled.ConfigDigest), cancellationToken);
        var (config, diffIds, created) = ImageConfigParser.Parse(configBytes, $"{what} config {pulled.ConfigDigest}");
        if (diffIds.Count != pulled.LayerDigests.Count)
        {
            throw new ImageException(ImageErrorKind.Corrupt,
                $"{what}: config {pulled.ConfigDigest} lists {diffIds.Count} diff_ids for {pulled.LayerDigests.Count} layers");
        }
        var tags = reference.Digest is null ? new List<string> { reference.ToString() } : [];
        var record = new ImageRecord(pulled.ConfigDigest, tags, [reference.Name + "@" + pulled.RepoDigest], pulled.ManifestDigest,
            pulled.Size, diffIds, pulled.LayerDigests, config, created) { LastUsed = now };
        var images = _metadata.Load();
        Merge(images, record);
        _metadata.Save(images);
        _logger.LogInformation("pulled image {Id} ({Reference})", record.Id, reference);
        return images.First(i => i.Id == record.Id);
    }

    /// <summary>Deletes the given blobs and layer snapshots unless an image references them or
    /// <paramref name="keep"/> says a pull in progress still needs them: the cleanup after a failed pull.</summary>
    public async Task DeleteUnreferencedAsync(IEnumerable<string> digests, IEnumerable<string> diffIds, Func<string, bool> keep, CancellationToken cancellationToken)
    {
        using var held = await FileLock.AcquireAsync(_metadata.LockPath, cancellationToken);
        var images = _metadata.Load();
        var referenced = Referenced(images);
        foreach (var digest in digests.Where(d => !referenced.Contains(d) && !keep(d)))
        {
            Content.Delete(digest);
        }
        var liveLayers = images.SelectMany(i => i.DiffIds).ToHashSet();
        foreach (var diffId in diffIds.Where(d => !liveLayers.Contains(d) && !keep(d)))
        {
            OverlaySnapshotter.DeleteLayer(Root, diffId);
        }
    }

    /// <summary>Records that a container is using the image now (image GC removes least recently used first).</summary>
    public async Task TouchAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        using var held = await FileLock.AcquireAsync(_metadata.LockPath, cancellationToken);
        var images = _metadata.Load();
        var index = images.FindIndex(i => i.Id == id);
        if (index >= 0)
        {
            images[index] = images[index] with { LastUsed = now };
            _metadata.Save(images);
        }
    }

    internal static ImageRecord? Resolve(List<ImageRecord> images, string reference)
    {
        if (ImageReference.TryParse(reference, out var parsed, out _))
        {
            if (parsed.Digest is not null)
            {
                var byDigest = images.FirstOrDefault(i => i.RepoDigests.Contains(parsed.Name + "@" + parsed.Digest));
                if (byDigest is not null)
                {
                    return byDigest;
                }
            }
            else if (images.FirstOrDefault(i => i.RepoTags.Contains(parsed.ToString())) is { } byName)
            {
                return byName;
            }
        }
        var hex = reference.StartsWith("sha256:", StringComparison.Ordinal) ? reference[7..] : reference;
        if (hex.Length == 0 || hex.Length > 64 || !hex.AsSpan().ContainsOnlyHexLower())
        {
            return null;
        }
        var matches = images.Where(i => i.Id.AsSpan(7).StartsWith(hex, StringComparison.Ordinal)).Take(2).ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    private ImageRecord ToRecord(ImportedImage image, string source)
    {
        var configBytes = File.ReadAllBytes(Content.BlobPath(image.ConfigDigest));
        var (config, diffIds, created) = ImageConfigParser.Parse(configBytes, $"image archive {source} config {image.ConfigDigest}");
        if (diffIds.Count != image.Layers.Count)
        {
            throw new ImageException(ImageErrorKind.Corrupt,
                $"image archive {source}: config {image.ConfigDigest} lists {diffIds.Count} diff_ids for {image.Layers.Count} layers");
        }
        var repoDigests = image.Names.Select(n => ImageReference.Parse(n).Name + "@" + image.ManifestDigest).Distinct().ToList();
        return new ImageRecord(image.ConfigDigest, image.Names.Distinct().ToList(), repoDigests, image.ManifestDigest,
            image.ConfigSize + image.Layers.Sum(l => l.Size), diffIds, image.Layers.Select(l => l.Digest).ToList(), config, created);
    }

    /// <summary>Adds or updates the record; a name moves from any other image to this one (as docker tag does).</summary>
    private static void Merge(List<ImageRecord> images, ImageRecord record)
    {
        for (var i = 0; i < images.Count; i++)
        {
            if (images[i].Id != record.Id)
            {
                images[i] = images[i] with
                {
                    RepoTags = images[i].RepoTags.Except(record.RepoTags).ToList(),
                };
            }
        }
        var existing = images.FindIndex(i => i.Id == record.Id);
        if (existing >= 0)
        {
            var old = images[existing];
            images[existing] = record with
            {
                LastUsed = record.LastUsed ?? old.LastUsed,
                RepoTags = old.RepoTags.Union(record.RepoTags).ToList(),
                RepoDigests = old.RepoDigests.Union(record.RepoDigests).ToList(),
            };
        }
        else
        {
            images.Add(record);
        }
    }

    private static HashSet<string> Referenced(List<ImageRecord> images) =>
        images.SelectMany(i => i.LayerDigests.Append(i.Id).Append(i.ManifestDigest)).ToHashSet();
}
