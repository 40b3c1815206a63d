using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace NodeAgent.Tests.Images;

/// <summary>Builds crafted layers and OCI / docker-save archives for tests.</summary>
internal static class OciTestImage
{
    public const string LayerTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip";

    public static string Digest(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>An uncompressed layer tar written by <paramref name="write"/>.</summary>
    public static byte[] Tar(Action<TarWriter> write)
    {
        using var ms = new MemoryStream();
        using (var writer = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
        {
            write(writer);
        }
        return ms.ToArray();
    }

    public static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(data);
        }
        return ms.ToArray();
    }

    public static void File(TarWriter w, string name, string content, int mode = 0b110_100_100)
    {
        var e = new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
            Mode = (UnixFileMode)mode,
            ModificationTime = new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero),
        };
        w.WriteEntry(e);
    }

    public static void Dir(TarWriter w, string name) =>
        w.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name) { Mode = (UnixFileMode)0b111_101_101, ModificationTime = new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero) });

    public static void Link(TarWriter w, TarEntryType type, string name, string target) =>
        w.WriteEntry(new PaxTarEntry(type, name) { LinkName = target, ModificationTime = new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero) });

    public static string Config(IEnumerable<byte[]> uncompressedLayers, string cmd = "sh") =>
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2020-01-02T03:04:05Z\",\"config\":{\"Cmd\":[\"" + cmd +
        "\"],\"Env\":[\"PATH=/bin\"],\"WorkingDir\":\"/\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" +
        string.Join(",", uncompressedLayers.Select(l => "\"" + Digest(l) + "\"")) + "]}}";

    /// <summary>Writes an OCI image archive (oci-layout, index.json, blobs) holding one image.</summary>
    /// <param name="layers">Uncompressed layer tars, base first; stored gzip'd.</param>
    public static void WriteOciArchive(string path, string? name, IReadOnlyList<byte[]> layers, string cmd = "sh",
        string layerMediaType = LayerTarGzip, Func<byte[], byte[]>? corruptBlob = null, string annotationKey = "io.containerd.image.name", bool nestedIndex = false,
        Func<byte[], byte[]>? compress = null)
    {
        var blobs = new List<(string Digest, byte[] Data)>();
        var layerDescs = new List<string>();
        foreach (var layer in layers)
        {
            var gz = (compress ?? Gzip)(layer);
            blobs.Add((Digest(gz), gz));
            layerDescs.Add($"{{\"mediaType\":\"{layerMediaType}\",\"digest\":\"{Digest(gz)}\",\"size\":{gz.Length}}}");
        }
        var config = Encoding.UTF8.GetBytes(Config(layers, cmd));
        blobs.Add((Digest(config), config));
        var manifest = Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{Digest(config)}\",\"size\":{config.Length}}},\"layers\":[{string.Join(",", layerDescs)}]}}");
        blobs.Add((Digest(manifest), manifest));
        var annotations = name is null ? "" : $",\"annotations\":{{\"{annotationKey}\":\"{name}\"}}";
        var topType = "application/vnd.oci.image.manifest.v1+json";
        var top = manifest;
        if (nestedIndex)
        {
            // an arm64 entry first (its blob is absent: it must not be touched), then linux/amd64
            var other = "sha256:" + new string('e', 64);
            var inner = Encoding.UTF8.GetBytes(
                $"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"{other}\",\"size\":10,\"platform\":{{\"os\":\"linux\",\"architecture\":\"arm64\"}}}},{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"{Digest(manifest)}\",\"size\":{manifest.Length},\"platform\":{{\"os\":\"linux\",\"architecture\":\"amd64\"}}}}]}}");
            blobs.Add((Digest(inner), inner));
            topType = "application/vnd.oci.image.index.v1+json";
            top = inner;
        }
        var index = $"{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"{topType}\",\"digest\":\"{Digest(top)}\",\"size\":{top.Length}{annotations}}}]}}";
        using var file = System.IO.File.Create(path);
        using var w = new TarWriter(file, TarEntryFormat.Pax);
        Add(w, "oci-layout", Encoding.UTF8.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}"));
        Add(w, "index.json", Encoding.UTF8.GetBytes(index));
        foreach (var (digest, data) in blobs)
        {
            Add(w, "blobs/sha256/" + digest[7..], corruptBlob is not null && layers.Count > 0 && data == blobs[0].Data ? corruptBlob(data) : data);
        }
    }

    /// <summary>Writes a docker save archive (manifest.json, config, uncompressed layer tars).</summary>
    public static void WriteDockerArchive(string path, string name, IReadOnlyList<byte[]> layers)
    {
        var config = Encoding.UTF8.GetBytes(Config(layers));
        using var file = System.IO.File.Create(path);
        using var w = new TarWriter(file, TarEntryFormat.Pax);
        var names = layers.Select(l => Digest(l)[7..] + "/layer.tar").ToList();
        Add(w, "manifest.json", Encoding.UTF8.GetBytes(
            $"[{{\"Config\":\"{Digest(config)[7..]}.json\",\"RepoTags\":[\"{name}\"],\"Layers\":[{string.Join(",", names.Select(n => "\"" + n + "\""))}]}}]"));
        Add(w, Digest(config)[7..] + ".json", config);
        for (var i = 0; i < layers.Count; i++)
        {
            Add(w, names[i], layers[i]);
        }
    }

    private static void Add(TarWriter w, string name, byte[] data) =>
        w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
}
