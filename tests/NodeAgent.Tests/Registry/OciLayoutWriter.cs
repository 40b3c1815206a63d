using System.Text;
using NodeAgent.Tests.Images;

namespace NodeAgent.Tests.Registry;

/// <summary>One platform's image for <see cref="OciLayoutWriter"/>: uncompressed layer tars (base first) and how to compress them.</summary>
public sealed record PlatformImage(string Os, string Architecture, string? Variant, IReadOnlyList<byte[]> Layers, string Cmd = "sh", bool Zstd = false);

/// <summary>Writes an OCI image layout directory (skopeo's <c>oci:DIR:TAG</c>) holding one image or a multi-platform index.</summary>
public static class OciLayoutWriter
{
    public static void Write(string dir, string tag, IReadOnlyList<PlatformImage> images, bool asIndex)
    {
        var blobs = Path.Combine(dir, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        File.WriteAllText(Path.Combine(dir, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        string Blob(byte[] data)
        {
            var digest = OciTestImage.Digest(data);
            File.WriteAllBytes(Path.Combine(blobs, digest[7..]), data);
            return digest;
        }
        var manifests = new List<string>();
        foreach (var image in images)
        {
            var layerDescs = image.Layers.Select(l =>
            {
                byte[] compressed;
                if (image.Zstd)
                {
                    using var z = new ZstdSharp.Compressor();
                    compressed = z.Wrap(l).ToArray();
                }
                else
                {
                    compressed = OciTestImage.Gzip(l);
                }
                var type = image.Zstd ? "application/vnd.oci.image.layer.v1.tar+zstd" : "application/vnd.oci.image.layer.v1.tar+gzip";
                return $"{{\"mediaType\":\"{type}\",\"digest\":\"{Blob(compressed)}\",\"size\":{compressed.Length}}}";
            }).ToList();
            var config = OciTestImage.Config(image.Layers, image.Cmd)
                .Replace("\"architecture\":\"amd64\"", $"\"architecture\":\"{image.Architecture}\"", StringComparison.Ordinal);
            var configBytes = Encoding.UTF8.GetBytes(config);
            var manifest = Encoding.UTF8.GetBytes(
                $"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{Blob(configBytes)}\",\"size\":{configBytes.Length}}},\"layers\":[{string.Join(",", layerDescs)}]}}");
            var platform = $"\"platform\":{{\"os\":\"{image.Os}\",\"architecture\":\"{image.Architecture}\"" + (image.Variant is null ? "" : $",\"variant\":\"{image.Variant}\"") + "}";
            manifests.Add($"{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"{Blob(manifest)}\",\"size\":{manifest.Length},{platform}}}");
        }
        var refName = $"\"annotations\":{{\"org.opencontainers.image.ref.name\":\"{tag}\"}}";
        string top;
        if (asIndex)
        {
            var index = Encoding.UTF8.GetBytes($"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{string.Join(",", manifests)}]}}");
            top = $"{{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"{Blob(index)}\",\"size\":{index.Length},{refName}}}";
        }
        else
        {
            top = manifests.Single().Replace("\"platform\":", refName + ",\"platform\":", StringComparison.Ordinal);
        }
        File.WriteAllText(Path.Combine(dir, "index.json"), $"{{\"schemaVersion\":2,\"manifests\":[{top}]}}");
    }

    /// <summary>A layer of one file of <paramref name="size"/> pseudo-random base64 characters.</summary>
    public static byte[] RandomLayer(string name, int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return OciTestImage.Tar(w => OciTestImage.File(w, name, Convert.ToBase64String(data)[..size]));
    }

    public static byte[] TextLayer(string name, string content) => OciTestImage.Tar(w => OciTestImage.File(w, name, content));
}
