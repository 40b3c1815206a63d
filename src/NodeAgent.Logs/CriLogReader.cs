using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace NodeAgent.Logs;

/// <summary>
/// Reads CRI log records from the rotated files and then the current one, optionally following the current file
/// as it grows and across rotations (woken by inotify, not by polling).
/// </summary>
public static class CriLogReader
{
    /// <summary>Parses one line; null when it is not a CRI record.</summary>
    public static CriLogEntry? Parse(ReadOnlySpan<byte> line)
    {
        var first = line.IndexOf((byte)' ');
        if (first <= 0)
        {
            return null;
        }

        var rest = line[(first + 1)..];
        var second = rest.IndexOf((byte)' ');
        if (second <= 0 || rest.Length < second + 2)
        {
            return null;
        }

        var streamText = rest[..second];
        var tagAndContent = rest[(second + 1)..];
        var third = tagAndContent.IndexOf((byte)' ');
        var tag = third < 0 ? tagAndContent : tagAndContent[..third];
        var content = third < 0 ? ReadOnlySpan<byte>.Empty : tagAndContent[(third + 1)..];
        if (!DateTimeOffset.TryParse(Encoding.ASCII.GetString(line[..first]), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var ts))
        {
            return null;
        }

        CriStream stream;
        if (streamText.SequenceEqual("stdout"u8))
        {
            stream = CriStream.Stdout;
        }
        else if (streamText.SequenceEqual("stderr"u8))
        {
            stream = CriStream.Stderr;
        }
        else
        {
            return null;
        }

        var partial = tag.Length > 0 && tag[0] == (byte)'P';
        return new CriLogEntry(ts, stream, partial, content.ToArray());
    }

    public static async IAsyncEnumerable<CriLogEntry> ReadAsync(string path, bool follow, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var rotated in CriLogWriter.RotatedFiles(path))
        {
            await foreach (var e in ReadFileAsync(rotated, cancellationToken))
            {
                yield return e;
            }
        }

        if (!follow)
        {
            if (File.Exists(path))
            {
                await foreach (var e in ReadFileAsync(path, cancellationToken))
                {
                    yield return e;
                }
            }

            yield break;
        }

        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        using var watcher = new FileSystemWatcher(dir, Path.GetFileName(path))
        {
            NotifyFilter = NotifyFilters.Size | NotifyFilters.FileName | NotifyFilters.LastWrite,
        };
        var signal = new SemaphoreSlim(0);
        void Wake(object? _, FileSystemEventArgs __) => signal.Release();
        watcher.Changed += Wake;
        watcher.Created += Wake;
        watcher.Renamed += (s, e) => signal.Release();
        watcher.EnableRaisingEvents = true;

        FileStream? file = null;
        var pending = new List<byte>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (file is null && File.Exists(path))
                {
                    file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                }

                if (file is not null)
                {
                    var buffer = new byte[16 * 1024];
                    int n;
                    while ((n = await file.ReadAsync(buffer, cancellationToken)) > 0)
                    {
                        foreach (var entry in Split(buffer.AsSpan(0, n), pending))
                        {
                            yield return entry;
                        }
                    }

                    // Rotated away: the name now points at a new file; finish this one and switch.
                    if (!File.Exists(path) || new FileInfo(path).Length < file.Position)
                    {
                        file.Dispose();
                        file = null;
                        pending.Clear();
                        continue;
                    }
                }

                try
                {
                    await signal.WaitAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }
            }
        }
        finally
        {
            file?.Dispose();
        }
    }

    private static List<CriLogEntry> Split(ReadOnlySpan<byte> data, List<byte> pending)
    {
        var entries = new List<CriLogEntry>();
        while (!data.IsEmpty)
        {
            var newline = data.IndexOf((byte)'\n');
            if (newline < 0)
            {
                pending.AddRange(data);
                break;
            }

            ReadOnlySpan<byte> line;
            if (pending.Count > 0)
            {
                pending.AddRange(data[..newline]);
                line = pending.ToArray();
                pending.Clear();
            }
            else
            {
                line = data[..newline];
            }

            if (Parse(line) is { } entry)
            {
                entries.Add(entry);
            }

            data = data[(newline + 1)..];
        }

        return entries;
    }

    private static async IAsyncEnumerable<CriLogEntry> ReadFileAsync(string path, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var pending = new List<byte>();
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = await file.ReadAsync(buffer, cancellationToken)) > 0)
        {
            foreach (var entry in Split(buffer.AsSpan(0, n), pending))
            {
                yield return entry;
            }
        }
    }
}
