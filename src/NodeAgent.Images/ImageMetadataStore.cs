using System.Text.Json;
using NodeAgent.Linux;

namespace NodeAgent.Images;

/// <summary>
/// The image list in <c>&lt;root&gt;/metadata/images.json</c>. Every change runs under an exclusive flock and
/// replaces the file atomically, so the CLI and the daemon can change it concurrently.
/// </summary>
public sealed class ImageMetadataStore(string root)
{
    private readonly string _dir = Path.Combine(root, "metadata");

    private string FilePath => Path.Combine(_dir, "images.json");

    public IReadOnlyList<ImageRecord> Load()
    {
        try
        {
            using var stream = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return JsonSerializer.Deserialize(stream, ImagesJsonContext.Default.ListImageRecord) ?? [];
        }
        catch (FileNotFoundException)
        {
            return [];
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
        catch (JsonException ex)
        {
            throw new ImageException(ImageErrorKind.Corrupt, $"image metadata {FilePath} is unreadable: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Takes the store's exclusive lock: every change (import, removal, garbage collection) runs under it, so one
    /// process never collects blobs another is importing.
    /// </summary>
    public FileLock Lock()
    {
        Directory.CreateDirectory(_dir);
        return FileLock.Acquire(Path.Combine(_dir, "lock"));
    }

    /// <summary>Replaces the list; call it holding <see cref="Lock"/>.</summary>
    public void Save(List<ImageRecord> images) =>
        AtomicFile.Write(FilePath, JsonSerializer.SerializeToUtf8Bytes(images, ImagesJsonContext.Default.ListImageRecord));
}
