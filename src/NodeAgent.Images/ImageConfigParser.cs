using System.Text.Json;

namespace NodeAgent.Images;

/// <summary>Reads the parts of an OCI/Docker image config NodeAgent uses.</summary>
internal static class ImageConfigParser
{
    public static (ImageConfig Config, List<string> DiffIds, DateTimeOffset? Created) Parse(byte[] json, string what)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            var cfg = root.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
            var diffIds = root.TryGetProperty("rootfs", out var rootfs) && rootfs.TryGetProperty("diff_ids", out var ids)
                ? ids.EnumerateArray().Select(i => i.GetString()!).ToList()
                : [];
            DateTimeOffset? created = root.TryGetProperty("created", out var cr) && cr.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(cr.GetString(), out var t) ? t : null;
            var config = new ImageConfig
            {
                Entrypoint = Strings(cfg, "Entrypoint"),
                Cmd = Strings(cfg, "Cmd"),
                Env = Strings(cfg, "Env") ?? [],
                WorkingDir = String(cfg, "WorkingDir"),
                User = String(cfg, "User"),
                StopSignal = String(cfg, "StopSignal"),
                Labels = cfg.ValueKind == JsonValueKind.Object && cfg.TryGetProperty("Labels", out var l) && l.ValueKind == JsonValueKind.Object
                    ? l.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty)
                    : new Dictionary<string, string>(),
                Os = String(root, "os") ?? "linux",
                Architecture = String(root, "architecture") ?? "amd64",
            };
            return (config, diffIds, created);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new ImageException(ImageErrorKind.Corrupt, $"{what}: not a valid image config: {ex.Message}", ex);
        }
    }

    private static List<string>? Strings(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Select(x => x.GetString() ?? string.Empty).ToList()
            : null;

    private static string? String(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;
}
