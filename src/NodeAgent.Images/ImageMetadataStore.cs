using System.Text.Json;
using System.Text.Json.Serialization;

namespace NodeAgent.Images;

/// <summary>
/// Image records persisted as <c>&lt;root&gt;/metadata/images.json</c>, rewritten atomically (temp + rename);
/// mutations hold an exclusive flock on <c>&lt;root&gt;/metadata/lock</c>.
/// </summary>
internal sealed class ImageMetadataStore
{
    private readonly string _dir;
    private readonly string _file;

    public ImageMetadataStore(string root)
    {
        _dir = System.IO.Path.Combine(root, "metadata");
        _file = System.IO.Path.Combine(_dir, "images.json");
        LockPath = System.IO.Path.Combine(_dir, "lock");
        Directory.CreateDirectory(_dir);
    }

    public string LockPath { get; }

    public List<ImageRecord> Load()
    {
        try
        {
            using var stream = File.OpenRead(_file);
            return JsonSerializer.Deserialize(stream, ImageJsonContext.Default.ListImageRecord) ?? [];
        }
        catch (FileNotFoundException)
        {
            return [];
        }
        catch (JsonException e)
        {
            throw new ImageException(ImageErrorKind.Corrupt, $"image metadata {_file}: {e.Message}", e);
        }
    }

    /// <summary>Writes the records; call only while holding the lock.</summary>
    public void Save(List<ImageRecord> images)
    {
        var temp = _file + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                JsonSerializer.Serialize(stream, images, ImageJsonContext.Default.ListImageRecord);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, _file, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(List<ImageRecord>))]
[JsonSerializable(typeof(Dictionary<string, DropRecord>))]
internal sealed partial class ImageJsonContext : JsonSerializerContext;

/// <summary>What the drop-directory importer remembers of an imported archive.</summary>
internal sealed record DropRecord(long Size, DateTime MtimeUtc);
