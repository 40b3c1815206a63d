namespace NodeAgent.Images;

/// <summary>
/// The local image store: content-addressed blobs, the image list, imports. Several processes may use one root.
/// </summary>
public sealed class ImageStore : IImageStore
{
    private readonly ImageMetadataStore _metadata;
    private readonly ImageArchiveImporter _importer;
    private readonly string _root;

    public ImageStore(string root)
    {
        _root = Path.GetFullPath(root);
        Content = new ContentStore(_root);
        _metadata = new ImageMetadataStore(_root);
        _importer = new ImageArchiveImporter(Content);
    }

    public ContentStore Content { get; }

    public async Task<IReadOnlyList<ImageRecord>> ImportAsync(string path, CancellationToken cancellationToken)
    {
        using var _ = _metadata.Lock();
        ImageArchiveImporter.Imported imported;
        try
        {
            imported = await _importer.ImportAsync(path, cancellationToken);
        }
        catch (ImageException)
        {
            CollectGarbageLocked();
            throw;
        }

        var list = _metadata.Load().ToList();
        foreach (var image in imported.Images)
        {
            // A name moves to the newest image that claims it, as with docker load.
            foreach (var other in list.ToList())
            {
                if (other.Id != image.Id && other.RepoTags.Intersect(image.RepoTags).Any())
                {
                    list[list.IndexOf(other)] = other with { RepoTags = other.RepoTags.Except(image.RepoTags).ToList() };
                }
            }

            var existing = list.FindIndex(i => i.Id == image.Id);
            if (existing >= 0)
            {
                var old = list[existing];
                list[existing] = image with
                {
                    RepoTags = old.RepoTags.Union(image.RepoTags).ToList(),
                    RepoDigests = old.RepoDigests.Union(image.RepoDigests).ToList(),
                };
            }
            else
            {
                list.Add(image);
            }
        }

        _metadata.Save(list);
        CollectGarbageLocked();
        return imported.Images.Select(i => Find(list, i.Id)!).ToList();
    }

    public ImageRecord? Resolve(string reference)
    {
        var images = _metadata.Load();
        return Find(images, reference);
    }

    private static ImageRecord? Find(IReadOnlyList<ImageRecord> images, string reference)
    {
        var byId = images.FirstOrDefault(i => i.Id == reference || i.Id == "sha256:" + reference);
        if (byId is not null)
        {
            return byId;
        }

        if (ImageReference.TryParse(reference, out var parsed, out _))
        {
            var normalized = parsed.ToString();
            var byName = images.FirstOrDefault(i => i.RepoTags.Contains(normalized) || i.RepoDigests.Contains(normalized));
            if (byName is not null)
            {
                return byName;
            }

            if (parsed.Digest is not null)
            {
                var byDigest = images.FirstOrDefault(i => i.ManifestDigest == parsed.Digest && (parsed.Tag is null || i.RepoTags.Contains($"{parsed.Repository}:{parsed.Tag}")));
                if (byDigest is not null)
                {
                    return byDigest;
                }
            }
        }

        var prefix = reference.StartsWith("sha256:", StringComparison.Ordinal) ? reference[7..] : reference;
        if (prefix.Length >= 4 && prefix.All(char.IsAsciiHexDigitLower))
        {
            var matches = images.Where(i => i.Id[7..].StartsWith(prefix, StringComparison.Ordinal)).ToList();
            return matches.Count == 1 ? matches[0] : null;
        }

        return null;
    }

    public IReadOnlyList<ImageRecord> List() => _metadata.Load();

    public Task RemoveAsync(string reference, CancellationToken cancellationToken)
    {
        using var _ = _metadata.Lock();
        var list = _metadata.Load().ToList();
        var image = Find(list, reference) ?? throw new ImageException(ImageErrorKind.NotFound, $"image \"{reference}\" not found");
        list.RemoveAll(i => i.Id == image.Id);
        _metadata.Save(list);
        CollectGarbageLocked();
        return Task.CompletedTask;
    }

    /// <summary>Deletes blobs and layer snapshots no image references.</summary>
    public void CollectGarbage()
    {
        using var _ = _metadata.Lock();
        CollectGarbageLocked();
    }

    private void CollectGarbageLocked()
    {
        var images = _metadata.Load();
        var used = new HashSet<string>();
        foreach (var image in images)
        {
            used.Add(image.Id);
            used.Add(image.ManifestDigest);
            used.UnionWith(image.LayerDigests);
        }

        foreach (var blob in Content.List())
        {
            if (!used.Contains(blob))
            {
                Content.Delete(blob);
            }
        }

        var layers = Path.Combine(_root, "snapshots", "layers");
        if (Directory.Exists(layers))
        {
            var diffIds = images.SelectMany(i => i.DiffIds).Select(ContentStore.Hex).ToHashSet();
            foreach (var dir in Directory.EnumerateDirectories(layers))
            {
                if (!diffIds.Contains(Path.GetFileName(dir)))
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
        }
    }
}
