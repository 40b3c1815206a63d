using System.Text.Json;
using NodeAgent.Images;

namespace NodeAgent.Registry.Distribution;

/// <summary>Reads indexes (OCI index, Docker manifest list), image manifests (OCI, Docker v2 schema 2) and the
/// config's diff IDs with <see cref="JsonDocument"/> (no reflection); malformed documents are Corrupt.</summary>
public static class ManifestParser
{
    public static readonly string[] AcceptedMediaTypes =
        [MediaTypes.OciIndex, MediaTypes.DockerManifestList, MediaTypes.OciManifest, MediaTypes.DockerManifest];

    /// <summary>The media type of a manifest: the Content-Type when it is a manifest type, else the document's own
    /// <c>mediaType</c>, else inferred (an object with <c>manifests</c> is an index).</summary>
    public static string MediaType(byte[] body, string? contentType, string what)
    {
        if (contentType is not null && AcceptedMediaTypes.Contains(contentType))
        {
            return contentType;
        }
        using var doc = Parse(body, what);
        var root = doc.RootElement;
        if (Str(root, "mediaType") is { } declared)
        {
            return declared;
        }
        if (root.TryGetProperty("schemaVersion", out var v) && v.ValueKind == JsonValueKind.Number && v.GetInt32() == 1)
        {
            throw new RegistryException(RegistryErrorKind.Unsupported, $"{what}: Docker schema 1 manifests are not supported");
        }
        return root.TryGetProperty("manifests", out _) ? MediaTypes.OciIndex
            : root.TryGetProperty("config", out _) ? MediaTypes.OciManifest
            : throw new RegistryException(RegistryErrorKind.Unsupported, $"{what}: unknown manifest media type \"{contentType}\"");
    }

    public static IReadOnlyList<Descriptor> ParseIndex(byte[] body, string what)
    {
        using var doc = Parse(body, what);
        if (!doc.RootElement.TryGetProperty("manifests", out var manifests) || manifests.ValueKind != JsonValueKind.Array)
        {
            throw new RegistryException(RegistryErrorKind.Corrupt, $"{what}: index without a manifests array");
        }
        return manifests.EnumerateArray().Select(m =>
        {
            var d = Desc(m, what);
            return m.TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object
                ? d with { Os = Str(p, "os"), Architecture = Str(p, "architecture"), Variant = Str(p, "variant") }
                : d;
        }).ToList();
    }

    public static (Descriptor Config, IReadOnlyList<Descriptor> Layers) ParseManifest(byte[] body, string what)
    {
        using var doc = Parse(body, what);
        var root = doc.RootElement;
        if (!root.TryGetProperty("config", out var config) || !root.TryGetProperty("layers", out var layers) || layers.ValueKind != JsonValueKind.Array)
        {
            throw new RegistryException(RegistryErrorKind.Corrupt, $"{what}: manifest lacks config or layers");
        }
        return (Desc(config, what), layers.EnumerateArray().Select(l => Desc(l, what)).ToList());
    }

    /// <summary>The config's <c>rootfs.diff_ids</c>, base layer first.</summary>
    public static IReadOnlyList<string> ParseDiffIds(byte[] config, string what)
    {
        using var doc = Parse(config, what);
        if (!doc.RootElement.TryGetProperty("rootfs", out var rootfs) || !rootfs.TryGetProperty("diff_ids", out var ids) || ids.ValueKind != JsonValueKind.Array)
        {
            throw new RegistryException(RegistryErrorKind.Corrupt, $"{what}: config without rootfs.diff_ids");
        }
        return ids.EnumerateArray().Select(i => i.GetString() ?? throw new RegistryException(RegistryErrorKind.Corrupt, $"{what}: diff_id is not a string")).ToList();
    }

    private static Descriptor Desc(JsonElement e, string what)
    {
        var digest = Str(e, "digest") ?? throw new RegistryException(RegistryErrorKind.Corrupt, $"{what}: descriptor without digest");
        try
        {
            ContentStore.ValidateDigest(digest);
        }
        catch (ImageException ex)
        {
            throw new RegistryException(RegistryErrorKind.Unsupported, $"{what}: {ex.Message}", ex);
        }
        var size = e.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : -1;
        return new Descriptor(Str(e, "mediaType"), digest, size);
    }

    private static JsonDocument Parse(byte[] body, string what)
    {
        try
        {
            var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                doc.Dispose();
                throw new RegistryException(RegistryErrorKind.Corrupt, $"{what}: expected a JSON object");
            }
            return doc;
        }
        catch (JsonException e)
        {
            throw new RegistryException(RegistryErrorKind.Corrupt, $"{what}: not valid JSON: {e.Message}", e);
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
