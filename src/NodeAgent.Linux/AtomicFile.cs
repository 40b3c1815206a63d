namespace NodeAgent.Linux;

/// <summary>
/// Files that appear whole or not at all: write a sibling temp file, rename it over the old one. No fsync: these are
/// runtime state files on the container start path. A crashed process never leaves a torn file; a power failure may
/// lose the newest version, which re-adoption and the next sync repair.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var tmp = $"{path}.tmp-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
        {
            fs.Write(content);
            fs.Flush();
        }

        File.Move(tmp, path, overwrite: true);
    }
}
