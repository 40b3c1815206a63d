using System.Text;
using System.Text.Json;
using NodeAgent.Cri;

namespace NodeAgent.Images;

/// <summary>
/// Reads an extracted <c>docker save</c> archive (manifest.json with Config, RepoTags, Layers), ingests its
/// config and layers and synthesises a Docker v2 schema 2 manifest so the image has a manifest digest.
/// </summary>
internal sealed class DockerArchiveImporter(ContentStore content, string dir, string source, List<string> created)
{
    public async Task<List<ImportedImage>> ImportAsync(CancellationToken cancellationToken)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(await File.ReadAllBytesAsync(System.IO.Path.Combine(dir, "manifest.json"), cancellationToken));
        }
        catch (JsonException e)
        {
            throw Corrupt($"manifest.json is not valid JSON: {e.Message}");
        }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw Corrupt("manifest.json is not an array");
        }
        var images = new List<ImportedImage>();
        foreach (var entry in doc.RootElement.EnumerateArray())
        {
            var configName = OciLayoutImporter.Str(entry, "Config") ?? throw Corrupt("manifest.json entry without Config");
            var (configDigest, configSize) = await IngestFileAsync(configName, cancellationToken);
            var layers = new List<(string, long)>();
            if (!entry.TryGetProperty("Layers", out var layerNames) || layerNames.ValueKind != JsonValueKind.Array)
            {
                throw Corrupt("manifest.json entry without Layers");
            }
            var layerTypes = new List<string>();
            foreach (var layerName in layerNames.EnumerateArray())
            {
                var name = layerName.GetString() ?? throw Corrupt("null layer name");
                var layer = await IngestFileAsync(name, cancellationToken);
                layers.Add(layer);
                layerTypes.Add(await IsGzipAsync(layer.Digest, cancellationToken) ? MediaTypes.DockerLayerGzip : MediaTypes.DockerLayer);
            }
            var manifestJson = BuildManifest(configDigest, configSize, layers, layerTypes);
            using var manifestStream = new MemoryStream(manifestJson);
            var (manifestDigest, isNew) = await content.IngestAsync(manifestStream, null, null, $"image archive {source} manifest", cancellationToken);
            if (isNew)
            {
                created.Add(manifestDigest);
            }
            var names = new List<string>();
            if (entry.TryGetProperty("RepoTags", out var tags) && tags.ValueKind == JsonValueKind.Array)
            {
                names.AddRange(tags.EnumerateArray().Select(t => ImageReference.Parse(t.GetString() ?? "").ToString()));
            }
            images.Add(new ImportedImage(names, manifestDigest, configDigest, layers, configSize));
        }
        return images;
    }

    private async Task<bool> IsGzipAsync(string digest, CancellationToken cancellationToken)
    {
        await using var s = content.OpenRead(digest);
        var magic = new byte[2];
        var n = await s.ReadAtLeastAsync(magic, 2, throwOnEndOfStream: false, cancellationToken);
        return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }

    private static byte[] BuildManifest(string configDigest, long configSize, List<(string Digest, long Size)> layers, List<string> layerTypes)
    {
        var sb = new StringBuilder();
        sb.Append("{\"schemaVersion\":2,\"mediaType\":\"").Append(MediaTypes.DockerManifest).Append("\",");
        sb.Append("\"config\":{\"mediaType\":\"").Append(MediaTypes.DockerConfig).Append("\",\"size\":").Append(configSize)
          .Append(",\"digest\":\"").Append(configDigest).Append("\"},\"layers\":[");
        for (var i = 0; i < layers.Count; i++)
        {
            sb.Append(i == 0 ? "" : ",").Append("{\"mediaType\":\"").Append(layerTypes[i]).Append("\",\"size\":").Append(layers[i].Size)
              .Append(",\"digest\":\"").Append(layers[i].Digest).Append("\"}");
        }
        sb.Append("]}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private async Task<(string Digest, long Size)> IngestFileAsync(string name, CancellationToken cancellationToken)
    {
        var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (name.StartsWith('/') || parts.Length == 0 || parts.Any(p => p is ".." or "."))
        {
            throw Corrupt($"invalid file name \"{name}\" in manifest.json");
        }
        var path = System.IO.Path.Combine([dir, .. parts]);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
        }
        catch (FileNotFoundException)
        {
            throw Corrupt($"{name} named in manifest.json is missing");
        }
        await using (stream)
        {
            var size = stream.Length;
            var (digest, isNew) = await content.IngestAsync(stream, null, size, $"image archive {source} file {name}", cancellationToken);
            if (isNew)
            {
                created.Add(digest);
            }
            return (digest, size);
        }
    }

    private ImageException Corrupt(string what) => new(ImageErrorKind.Corrupt, $"image archive {source}: {what}");
}
