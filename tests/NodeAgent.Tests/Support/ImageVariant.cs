using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace NodeAgent.Tests.Support;

/// <summary>
/// A variant of the busybox test image made at test time: the same layers under a new name, with its config's
/// <c>config</c> section edited (e.g. a <c>StopSignal</c>, as a Dockerfile's STOPSIGNAL writes it). Written as an
/// OCI image archive the image store imports like any other.
/// </summary>
public static class ImageVariant
{
    /// <summary>Writes the variant of <see cref="TestImages.BusyboxOci"/> to <paramref name="path"/>, named
    /// <paramref name="name"/>, with <paramref name="edit"/> applied to its config's <c>config</c> object.</summary>
    public static void WriteBusybox(string path, string name, Action<JsonObject> edit)
    {
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using (var source = File.OpenRead(TestImages.BusyboxOci))
        using (var reader = new TarReader(source))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile && entry.DataStream is { } data)
                {
                    using var copy = new MemoryStream();
                    data.CopyTo(copy);
                    entries[entry.Name.TrimStart('.', '/')] = copy.ToArray();
                }
            }
        }

        byte[] Blob(string digest) => entries["blobs/sha256/" + digest["sha256:".Length..]];
        var index = JsonNode.Parse(entries["index.json"])!.AsObject();
        var manifestDesc = index["manifests"]![0]!.AsObject();
        var manifest = JsonNode.Parse(Blob(manifestDesc["digest"]!.GetValue<string>()))!.AsObject();
        var config = JsonNode.Parse(Blob(manifest["config"]!["digest"]!.GetValue<string>()))!.AsObject();
        edit(config["config"]!.AsObject());

        var configBytes = Encoding.UTF8.GetBytes(config.ToJsonString());
        manifest["config"]!["digest"] = Add(entries, configBytes);
        manifest["config"]!["size"] = configBytes.Length;
        var manifestBytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        manifestDesc["digest"] = Add(entries, manifestBytes);
        manifestDesc["size"] = manifestBytes.Length;
        manifestDesc["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = name };
        entries["index.json"] = Encoding.UTF8.GetBytes(index.ToJsonString());

        using var target = File.Create(path);
        using var writer = new TarWriter(target, TarEntryFormat.Pax);
        foreach (var (entryName, data) in entries)
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, entryName) { DataStream = new MemoryStream(data), Mode = (UnixFileMode)0b110_100_100 });
        }
    }

    private static string Add(Dictionary<string, byte[]> entries, byte[] blob)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(blob));
        entries["blobs/sha256/" + hex] = blob;
        return "sha256:" + hex;
    }
}
