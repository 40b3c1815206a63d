namespace NodeAgent.Linux;

/// <summary>Files that appear whole or not at all: write a sibling temp file, fsync, rename over.</summary>
public static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var tmp = $"{path}.tmp-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
        {
            fs.Write(content);
            fs.Flush(flushToDisk: true);
        }

        File.Move(tmp, path, overwrite: true);
    }
}
