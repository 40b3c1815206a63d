using System.Text.Json;
using NodeAgent.Cri;

namespace NodeAgent.Images;

/// <summary>
/// Reads an OCI image layout (index.json + blobs/sha256) and ingests the linux/amd64 image(s) it holds.
/// Names come from the <c>io.containerd.image.name</c> annotation, else <c>org.opencontainers.image.ref.name</c>;
/// a ref.name that is only a tag (no '/' and no ':') names <c>localhost/&lt;archive base name&gt;:&lt;tag&gt;</c>.
/// </summary>
internal sealed class OciLayoutImporter(ContentStore content, string layoutDir, string source, List<string> created)
{
    public const string ContainerdNameAnnotation = "io.containerd.image.name";
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    public async Task<List<ImportedImage>> ImportAsync(CancellationToken cancellationToken)
    {
        var indexPath = System.IO.Path.Combine(layoutDir, "index.json");
        using var index = await ParseAsync(File.ReadAllBytes(indexPath), "index.json");
        var images = new List<ImportedImage>();
        foreach (var desc in Manifests(index.RootElement, "index.json"))
        {
            var names = new List<string>();
            if (Annotation(desc, ContainerdNameAnnotation) is { } full)
            {
                names.Add(ImageReference.Parse(full).ToString());
            }
            else if (Annotation(desc, RefNameAnnotation) is { } refName)
            {
                names.Add(NameFromRefName(refName, source));
            }
            var mediaType = Str(desc, "mediaType");
            if (Platform(desc) is { } p && p != "linux/amd64")
            {
                continue;
            }
            var image = await ImportDescriptorAsync(desc, mediaType, names, 0, cancellationToken);
            images.Add(image);
        }
        if (images.Count == 0)
        {
            throw new ImageException(ImageErrorKind.Unsupported, $"image archive {source}: no linux/amd64 image in index.json");
        }
        return images;
    }

    public static string NameFromRefName(string refName, string source)
    {
        if (!refName.Contains('/') && !refName.Contains(':'))
        {
            var baseName = System.IO.Path.GetFileName(source.TrimEnd('/')).Split('.')[0].ToLowerInvariant();
            return ImageReference.Parse($"localhost/{baseName}:{refName}").ToString();
        }
        return ImageReference.Parse(refName).ToString();
    }

    private async Task<ImportedImage> ImportDescriptorAsync(JsonElement desc, string? mediaType, List<string> names, int depth, CancellationToken cancellationToken)
    {
        var digest = Str(desc, "digest") ?? throw Corrupt("descriptor without digest");
        var bytes = await IngestAsync(digest, Size(desc), cancellationToken);
        using var doc = await ParseAsync(bytes, digest);
        mediaType ??= Str(doc.RootElement, "mediaType");
        if (MediaTypes.IsIndex(mediaType))
        {
            if (depth > 4)
            {
                throw Corrupt($"index {digest} nested too deeply");
            }
            foreach (var child in Manifests(doc.RootElement, digest))
            {
                if (Platform(child) == "linux/amd64" || (Platform(child) is null && MediaTypes.IsIndex(Str(child, "mediaType"))))
                {
                    return await ImportDescriptorAsync(child, Str(child, "mediaType"), names, depth + 1, cancellationToken);
                }
            }
            throw new ImageException(ImageErrorKind.Unsupported, $"image archive {source}: index {digest} has no linux/amd64 manifest");
        }
        if (!MediaTypes.IsManifest(mediaType))
        {
            throw new ImageException(ImageErrorKind.Unsupported, $"image archive {source}: unsupported manifest media type \"{mediaType}\" ({digest})");
        }
        var root = doc.RootElement;
        if (!root.TryGetProperty("config", out var config) || !root.TryGetProperty("layers", out var layers) || layers.ValueKind != JsonValueKind.Array)
        {
            throw Corrupt($"manifest {digest} lacks config or layers");
        }
        var layerList = new List<(string, long)>();
        foreach (var layer in layers.EnumerateArray())
        {
            var layerDigest = Str(layer, "digest") ?? throw Corrupt($"manifest {digest}: layer without digest");
            MediaTypes.CheckLayer(Str(layer, "mediaType"), $"image archive {source} layer {layerDigest}");
            layerList.Add((layerDigest, Size(layer) ?? 0));
        }
        var configDigest = Str(config, "digest") ?? throw Corrupt($"manifest {digest}: config without digest");
        await IngestAsync(configDigest, Size(config), cancellationToken);
        foreach (var (layerDigest, size) in layerList)
        {
            await IngestAsync(layerDigest, size, cancellationToken, readBack: false);
        }
        return new ImportedImage(names, digest, configDigest, layerList, Size(config) ?? 0);
    }

    private async Task<byte[]> IngestAsync(string digest, long? size, CancellationToken cancellationToken, bool readBack = true)
    {
        var path = System.IO.Path.Combine(layoutDir, "blobs", "sha256", ContentStore.Hex(digest));
        if (!content.Exists(digest))
        {
            FileStream stream;
            try
            {
                stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
            }
            catch (FileNotFoundException)
            {
                throw Corrupt($"blob {digest} is missing");
            }
            await using (stream)
            {
                var (_, isNew) = await content.IngestAsync(stream, digest, size, $"image archive {source} blob", cancellationToken);
                if (isNew)
                {
                    created.Add(digest);
                }
            }
        }
        return readBack ? await File.ReadAllBytesAsync(content.BlobPath(digest), cancellationToken) : [];
    }

    private ImageException Corrupt(string what) => new(ImageErrorKind.Corrupt, $"image archive {source}: {what}");

    private async Task<JsonDocument> ParseAsync(byte[] bytes, string what)
    {
        await Task.CompletedTask;
        try
        {
            return JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw Corrupt($"{what} is not valid JSON: {e.Message}");
        }
    }

    private IEnumerable<JsonElement> Manifests(JsonElement index, string what)
    {
        if (index.ValueKind != JsonValueKind.Object || !index.TryGetProperty("manifests", out var manifests) || manifests.ValueKind != JsonValueKind.Array)
        {
            throw Corrupt($"{what} has no manifests array");
        }
        return manifests.EnumerateArray().ToList();
    }

    internal static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long? Size(JsonElement e) =>
        e.TryGetProperty("size", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

    private static string? Annotation(JsonElement desc, string key) =>
        desc.TryGetProperty("annotations", out var a) ? Str(a, key) : null;

    private static string? Platform(JsonElement desc) =>
        desc.TryGetProperty("platform", out var p) ? $"{Str(p, "os")}/{Str(p, "architecture")}" : null;
}
