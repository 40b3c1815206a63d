using System.Text.Json;

namespace NodeAgent.Images;

/// <summary>Reads an OCI/Docker image config blob: the run config, platform, created time and diff IDs.</summary>
internal static class ImageConfigParser
{
    public static (ImageConfig Config, IReadOnlyList<string> DiffIds, DateTimeOffset? Created) Parse(byte[] json, string what)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            var c = root.TryGetProperty("config", out var cfg) && cfg.ValueKind == JsonValueKind.Object ? cfg : default;
            var config = new ImageConfig
            {
                Entrypoint = Strings(c, "Entrypoint"),
                Cmd = Strings(c, "Cmd"),
                Env = Strings(c, "Env") ?? [],
                WorkingDir = OciLayoutImporter.Str(c, "WorkingDir"),
                User = OciLayoutImporter.Str(c, "User"),
                StopSignal = OciLayoutImporter.Str(c, "StopSignal"),
                Labels = c.ValueKind == JsonValueKind.Object && c.TryGetProperty("Labels", out var l) && l.ValueKind == JsonValueKind.Object
                    ? l.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String).ToDictionary(p => p.Name, p => p.Value.GetString()!)
                    : new Dictionary<string, string>(),
                Os = OciLayoutImporter.Str(root, "os") ?? "linux",
                Architecture = OciLayoutImporter.Str(root, "architecture") ?? "amd64",
            };
            var diffIds = root.TryGetProperty("rootfs", out var rootfs) ? Strings(rootfs, "diff_ids") ?? [] : [];
            foreach (var d in diffIds)
            {
                ContentStore.ValidateDigest(d);
            }
            DateTimeOffset? created = OciLayoutImporter.Str(root, "created") is { } s && DateTimeOffset.TryParse(s, out var t) ? t : null;
            return (config, diffIds, created);
        }
        catch (JsonException e)
        {
            throw new ImageException(ImageErrorKind.Corrupt, $"{what}: config is not valid JSON: {e.Message}", e);
        }
    }

    private static IReadOnlyList<string>? Strings(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Select(x => x.GetString() ?? "").ToList()
            : null;
}
