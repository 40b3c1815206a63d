using System.Text.Json;

namespace NodeAgent.Images;

/// <summary>Writes the OCI manifest of an image that arrived without one (docker save archives).</summary>
internal static class DockerManifestWriter
{
    public static byte[] Write(string configDigest, long configSize, IReadOnlyList<string> layers, IReadOnlyList<long> sizes)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", "application/vnd.oci.image.manifest.v1+json");
            w.WriteStartObject("config");
            w.WriteString("mediaType", "application/vnd.oci.image.config.v1+json");
            w.WriteString("digest", configDigest);
            w.WriteNumber("size", configSize);
            w.WriteEndObject();
            w.WriteStartArray("layers");
            for (var i = 0; i < layers.Count; i++)
            {
                w.WriteStartObject();
                w.WriteString("mediaType", "application/vnd.oci.image.layer.v1.tar");
                w.WriteString("digest", layers[i]);
                w.WriteNumber("size", sizes[i]);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return ms.ToArray();
    }
}
