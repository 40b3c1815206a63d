using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace NodeAgent.Images;

/// <summary>
/// Reads an OCI image archive, an OCI layout directory or a <c>docker save</c> archive: every file goes into the
/// content store (OCI blobs verified against their names), then the index or manifest.json says which images it held.
/// </summary>
internal sealed class ImageArchiveImporter(ContentStore content)
{
    private const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    private const string OciIndex = "application/vnd.oci.image.index.v1+json";
    private const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    private const string DockerList = "application/vnd.docker.distribution.manifest.list.v2+json";

    public sealed record Imported(IReadOnlyList<ImageRecord> Images, IReadOnlyList<string> Blobs);

    public async Task<Imported> ImportAsync(string path, CancellationToken cancellationToken)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        var small = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (Directory.Exists(path))
        {
            foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories))
            {
                var name = Path.GetRelativePath(path, file).Replace('\\', '/');
                await using var stream = File.OpenRead(file);
                await AddAsync(name, stream, stream.Length, files, small, path, cancellationToken);
            }
        }
        else if (File.Exists(path))
        {
            await ReadArchiveAsync(path, files, small, cancellationToken);
        }
        else
        {
            throw new ImageException(ImageErrorKind.NotFound, $"import {path}: no such file or directory");
        }

        List<ImageRecord> images;
        if (small.ContainsKey("index.json"))
        {
            images = await FromOciLayoutAsync(path, small["index.json"], files, cancellationToken);
        }
        else if (small.ContainsKey("manifest.json"))
        {
            images = await FromDockerArchiveAsync(path, small, files, cancellationToken);
        }
        else
        {
            throw new ImageException(ImageErrorKind.Unsupported, $"import {path}: neither an OCI layout (index.json) nor a docker save archive (manifest.json)");
        }

        if (images.Count == 0)
        {
            throw new ImageException(ImageErrorKind.Corrupt, $"import {path}: the archive names no image");
        }

        return new Imported(images, files.Values.Distinct().ToList());
    }

    private async Task ReadArchiveAsync(string path, Dictionary<string, string> files, Dictionary<string, byte[]> small, CancellationToken cancellationToken)
    {
        await using var raw = File.OpenRead(path);
        var magic = new byte[2];
        var read = await raw.ReadAsync(magic, cancellationToken);
        raw.Position = 0;
        Stream stream = read == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new GZipStream(raw, CompressionMode.Decompress) : raw;
        try
        {
            using var tar = new TarReader(stream);
            TarEntry? entry;
            while ((entry = await tar.GetNextEntryAsync(copyData: false, cancellationToken)) is not null)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null)
                {
                    continue;
                }

                var name = entry.Name.TrimStart('.', '/');
                await AddAsync(name, entry.DataStream, entry.Length, files, small, path, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new ImageException(ImageErrorKind.Corrupt, $"import {path}: corrupt or truncated archive: {ex.Message}", ex);
        }
    }

    private async Task AddAsync(string name, Stream data, long length, Dictionary<string, string> files, Dictionary<string, byte[]> small, string archive, CancellationToken cancellationToken)
    {
        if (name is "index.json" or "manifest.json" or "oci-layout" or "repositories")
        {
            using var ms = new MemoryStream();
            await data.CopyToAsync(ms, cancellationToken);
            small[name] = ms.ToArray();
            return;
        }

        string? expected = null;
        if (name.StartsWith("blobs/sha256/", StringComparison.Ordinal))
        {
            expected = "sha256:" + name["blobs/sha256/".Length..];
        }

        try
        {
            files[name] = await content.IngestAsync(data, expected, length, $"import {archive}: {name}", cancellationToken);
        }
        catch (EndOfStreamException ex)
        {
            throw new ImageException(ImageErrorKind.Corrupt, $"import {archive}: {name}: truncated: {ex.Message}", ex);
        }
    }

    private async Task<List<ImageRecord>> FromOciLayoutAsync(string archive, byte[] indexJson, Dictionary<string, string> files, CancellationToken cancellationToken)
    {
        using var index = Parse(indexJson, archive, "index.json");
        var images = new List<ImageRecord>();
        foreach (var descriptor in Array(index.RootElement, "manifests"))
        {
            var annotations = descriptor.TryGetProperty("annotations", out var a) ? a : default;
            var name = Annotation(annotations, "io.containerd.image.name") ?? Annotation(annotations, "org.opencontainers.image.ref.name");
            var manifestDigest = await SelectManifestAsync(archive, Str(descriptor, "digest"), Str(descriptor, "mediaType"), cancellationToken);
            var tags = new List<string>();
            if (name is not null && (name.Contains('/') || name.Contains(':')) && ImageReference.TryParse(name, out var reference, out _))
            {
                tags.Add(reference.ToString());
            }

            images.Add(await RecordAsync(archive, manifestDigest, tags, cancellationToken));
        }

        return images;
    }

    /// <summary>Follows indexes down to the linux/amd64 manifest.</summary>
    private async Task<string> SelectManifestAsync(string archive, string digest, string? mediaType, CancellationToken cancellationToken)
    {
        for (var depth = 0; depth < 4; depth++)
        {
            if (mediaType is not (OciIndex or DockerList))
            {
                return digest;
            }

            using var index = Parse(await ReadBlobAsync(archive, digest, cancellationToken), archive, digest);
            var chosen = Array(index.RootElement, "manifests").FirstOrDefault(m =>
                m.TryGetProperty("platform", out var p) && Str(p, "os") == "linux" && Str(p, "architecture") == "amd64");
            if (chosen.ValueKind == JsonValueKind.Undefined)
            {
                throw new ImageException(ImageErrorKind.Unsupported, $"import {archive}: index {digest} has no linux/amd64 image");
            }

            digest = Str(chosen, "digest");
            mediaType = Str(chosen, "mediaType");
        }

        throw new ImageException(ImageErrorKind.Corrupt, $"import {archive}: indexes nested too deeply");
    }

    private async Task<ImageRecord> RecordAsync(string archive, string manifestDigest, List<string> tags, CancellationToken cancellationToken)
    {
        using var manifest = Parse(await ReadBlobAsync(archive, manifestDigest, cancellationToken), archive, manifestDigest);
        var mediaType = manifest.RootElement.TryGetProperty("mediaType", out var mt) ? mt.GetString() : OciManifest;
        if (mediaType is not (OciManifest or DockerManifest) && manifest.RootElement.TryGetProperty("mediaType", out _))
        {
            throw new ImageException(ImageErrorKind.Unsupported, $"import {archive}: manifest {manifestDigest} has unsupported media type {mediaType}");
        }

        var config = manifest.RootElement.GetProperty("config");
        var configDigest = Str(config, "digest");
        var layers = Array(manifest.RootElement, "layers").ToList();
        foreach (var layer in layers)
        {
            var type = Str(layer, "mediaType");
            if (type.Contains("zstd", StringComparison.Ordinal) || !(type.Contains("tar", StringComparison.Ordinal) || type.Contains("rootfs", StringComparison.Ordinal)))
            {
                throw new ImageException(ImageErrorKind.Unsupported, $"import {archive}: layer {Str(layer, "digest")} has unsupported media type {type}");
            }
        }

        var configBytes = await ReadBlobAsync(archive, configDigest, cancellationToken);
        var (imageConfig, diffIds, created) = ImageConfigParser.Parse(configBytes, $"import {archive}: config {configDigest}");
        if (diffIds.Count != layers.Count)
        {
            throw new ImageException(ImageErrorKind.Corrupt, $"import {archive}: config {configDigest} lists {diffIds.Count} diff_ids for {layers.Count} layers");
        }

        var size = config.GetProperty("size").GetInt64() + layers.Sum(l => l.GetProperty("size").GetInt64());
        var repoDigests = tags.Select(t => ImageReference.Parse(t).Repository + "@" + manifestDigest).ToList();
        return new ImageRecord(configDigest, tags, repoDigests, manifestDigest, size, diffIds,
            layers.Select(l => Str(l, "digest")).ToList(), imageConfig, created);
    }

    private async Task<List<ImageRecord>> FromDockerArchiveAsync(string archive, Dictionary<string, byte[]> small, Dictionary<string, string> files, CancellationToken cancellationToken)
    {
        using var manifest = Parse(small["manifest.json"], archive, "manifest.json");
        var images = new List<ImageRecord>();
        foreach (var item in manifest.RootElement.EnumerateArray())
        {
            var configFile = Str(item, "Config");
            if (!files.TryGetValue(configFile, out var configDigest))
            {
                throw new ImageException(ImageErrorKind.Corrupt, $"import {archive}: manifest.json names config {configFile}, which the archive lacks");
            }

            var layerDigests = new List<string>();
            var layerSizes = new List<long>();
            foreach (var layer in Array(item, "Layers"))
            {
                var layerFile = layer.GetString()!;
                if (!files.TryGetValue(layerFile, out var digest))
                {
                    throw new ImageException(ImageErrorKind.Corrupt, $"import {archive}: manifest.json names layer {layerFile}, which the archive lacks");
                }

                layerDigests.Add(digest);
                layerSizes.Add(new FileInfo(content.PathOf(digest)).Length);
            }

            var configBytes = await File.ReadAllBytesAsync(content.PathOf(configDigest), cancellationToken);
            var (imageConfig, diffIds, created) = ImageConfigParser.Parse(configBytes, $"import {archive}: {configFile}");

            // docker save has no registry manifest: write the OCI manifest the image would have.
            var manifestJson = DockerManifestWriter.Write(configDigest, configBytes.Length, layerDigests, layerSizes);
            using var ms = new MemoryStream(manifestJson);
            var manifestDigest = await content.IngestAsync(ms, null, null, $"import {archive}: manifest", cancellationToken);

            var tags = Array(item, "RepoTags").Select(t => t.GetString()).OfType<string>()
                .Select(t => ImageReference.Parse(t).ToString()).ToList();
            images.Add(new ImageRecord(configDigest, tags, [], manifestDigest, configBytes.Length + layerSizes.Sum(), diffIds, layerDigests, imageConfig, created));
        }

        return images;
    }

    private async Task<byte[]> ReadBlobAsync(string archive, string digest, CancellationToken cancellationToken)
    {
        var path = content.PathOf(digest);
        if (!File.Exists(path))
        {
            throw new ImageException(ImageErrorKind.Corrupt, $"import {archive}: blob {digest} is referenced but missing from the archive");
        }

        return await File.ReadAllBytesAsync(path, cancellationToken);
    }

    private static JsonDocument Parse(byte[] json, string archive, string what)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new ImageException(ImageErrorKind.Corrupt, $"import {archive}: {what} is not valid JSON: {ex.Message}", ex);
        }
    }

    private static string Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : string.Empty;

    private static IEnumerable<JsonElement> Array(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : [];

    private static string? Annotation(JsonElement annotations, string key) =>
        annotations.ValueKind == JsonValueKind.Object && annotations.TryGetProperty(key, out var v) ? v.GetString() : null;
}
