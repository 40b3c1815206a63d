using System.Formats.Tar;

namespace NodeAgent.Images;

/// <summary>Extracts the regular files of an image archive (OCI archive or docker save) into a staging dir.</summary>
internal static class ArchiveStager
{
    public static async Task ExtractAsync(string archive, string stagingDir, CancellationToken cancellationToken)
    {
        try
        {
            await using var file = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
            await using var reader = new TarReader(file);
            var count = 0;
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                count++;
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    continue;
                }
                var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries);
                if (name.StartsWith('/') || parts.Length == 0 || parts.Any(p => p is ".." or "."))
                {
                    throw new ImageException(ImageErrorKind.Corrupt, $"image archive {archive}: invalid member name \"{entry.Name}\"");
                }
                var target = System.IO.Path.Combine([stagingDir, .. parts]);
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
                await using var output = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
                if (entry.DataStream is { } data)
                {
                    await data.CopyToAsync(output, cancellationToken);
                }
                if (output.Length != entry.Length)
                {
                    throw new ImageException(ImageErrorKind.Corrupt, $"image archive {archive}: member {name} is truncated ({output.Length} of {entry.Length} bytes)");
                }
            }
            if (count == 0)
            {
                throw new ImageException(ImageErrorKind.Corrupt, $"image archive {archive}: empty or not a tar archive");
            }
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or FormatException or ArgumentException)
        {
            throw new ImageException(ImageErrorKind.Corrupt, $"image archive {archive}: truncated or corrupt tar: {e.Message}", e);
        }
    }
}
