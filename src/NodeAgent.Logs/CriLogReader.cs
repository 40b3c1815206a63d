using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace NodeAgent.Logs;

/// <summary>
/// Reads a container's CRI log: rotated files oldest first, then the current file. With <c>tail</c> it first finds,
/// reading backwards from the end (<see cref="LogTailStart"/>), where the last N lines begin, and reads only from
/// there. With <c>follow</c> it waits
/// for appended data using inotify (through <see cref="FileSystemWatcher"/>) and follows the log across rotations.
/// Malformed lines are reported to the callback with their file and line number and otherwise skipped.
/// </summary>
public sealed class CriLogReader
{
    private readonly string _path;
    private readonly Action<CriLogMalformedLine>? _onMalformed;
    private readonly Func<string, FileStream> _open;

    /// <param name="path">The current log file (rotated siblings are found next to it).</param>
    /// <param name="onMalformed">Called for every line that is not in the CRI format.</param>
    public CriLogReader(string path, Action<CriLogMalformedLine>? onMalformed = null)
        : this(path, onMalformed, LogFileCursor.Open)
    {
    }

    /// <param name="open">Opens a log file for reading (tests count the bytes read through it).</param>
    internal CriLogReader(string path, Action<CriLogMalformedLine>? onMalformed, Func<string, FileStream> open)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = Path.GetFullPath(path);
        _onMalformed = onMalformed;
        _open = open;
    }

    public async IAsyncEnumerable<CriLogEntry> ReadAsync(CriLogReadOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= new CriLogReadOptions();
        Channel<bool>? changed = null;
        FileSystemWatcher? watcher = null;
        LogFileCursor? current = null;
        try
        {
            if (options.Follow)
            {
                // Watch before the first read so nothing appended in between is missed.
                changed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
                watcher = Watch(changed.Writer);
            }

            var assembler = new LineAssembler(_onMalformed);
            var entries = new List<CriLogEntry>();
            var files = CriLogFiles.All(_path);
            var from = options.Tail is int wanted
                ? LogTailStart.Find(files, Math.Max(0, wanted), countIncomplete: !options.Follow, _open)
                : new LogTailStart.Position(0, 0);
            for (int i = from.File; i < files.Count; i++)
            {
                string file = files[i];
                LogFileCursor cursor;
                try
                {
                    cursor = new LogFileCursor(file, _open, i == from.File ? from.Offset : 0);
                }
                catch (FileNotFoundException)
                {
                    continue; // rotated away and deleted meanwhile
                }

                Drain(cursor, assembler, entries);
                if (options.Follow && file == _path)
                {
                    current = cursor;
                }
                else
                {
                    ReportTrailing(cursor);
                    cursor.Dispose();
                }
            }

            if (!options.Follow)
            {
                assembler.FlushIncomplete(entries);
            }

            int skip = options.Tail is int tail ? Math.Max(0, entries.Count - Math.Max(0, tail)) : 0;
            for (int i = skip; i < entries.Count; i++)
            {
                if (Wanted(entries[i], options))
                {
                    yield return entries[i];
                }
            }

            if (!options.Follow)
            {
                yield break;
            }

            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (current is null && File.Exists(_path))
                {
                    current = TryOpen(_path);
                }

                entries.Clear();
                if (current is not null)
                {
                    Drain(current, assembler, entries);
                    if (entries.Count == 0 && current.WasRotated())
                    {
                        // The writer closes a file before renaming it: what is left of it is complete.
                        Drain(current, assembler, entries);
                        ReportTrailing(current);
                        current.Dispose();
                        current = File.Exists(_path) ? TryOpen(_path) : null;
                        if (current is not null)
                        {
                            Drain(current, assembler, entries);
                        }
                    }
                }

                foreach (CriLogEntry entry in entries)
                {
                    if (Wanted(entry, options))
                    {
                        yield return entry;
                    }
                }

                if (entries.Count == 0)
                {
                    if (options.FollowUntil is { IsCompleted: true })
                    {
                        assembler.FlushIncomplete(entries);
                        foreach (CriLogEntry entry in entries)
                        {
                            yield return entry;
                        }

                        yield break;
                    }

                    var next = changed!.Reader.ReadAsync(cancellationToken).AsTask();
                    if (options.FollowUntil is { } until)
                    {
                        await Task.WhenAny(next, until).ConfigureAwait(false);
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                    else
                    {
                        await next.ConfigureAwait(false);
                    }
                }
            }
        }
        finally
        {
            current?.Dispose();
            watcher?.Dispose();
        }
    }

    private static bool Wanted(in CriLogEntry entry, CriLogReadOptions options) =>
        options.Since is not DateTimeOffset since || entry.Timestamp >= since;

    private static void Drain(LogFileCursor cursor, LineAssembler assembler, List<CriLogEntry> output)
    {
        while (cursor.TryReadLine(out ReadOnlySpan<byte> line))
        {
            assembler.Add(cursor, line, output);
        }
    }

    private void ReportTrailing(LogFileCursor cursor)
    {
        if (!cursor.Remainder.IsEmpty)
        {
            _onMalformed?.Invoke(new CriLogMalformedLine(cursor.Path, cursor.LineNumber + 1, System.Text.Encoding.UTF8.GetString(cursor.Remainder), "file ends without a newline"));
        }
    }

    private LogFileCursor? TryOpen(string path)
    {
        try
        {
            return new LogFileCursor(path, _open, 0);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private FileSystemWatcher Watch(ChannelWriter<bool> changed)
    {
        string dir = Path.GetDirectoryName(_path)!;
        Directory.CreateDirectory(dir);
        var watcher = new FileSystemWatcher(dir)
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
            IncludeSubdirectories = false,
        };
        void Signal(object? sender, EventArgs e) => changed.TryWrite(true);
        watcher.Changed += Signal;
        watcher.Created += Signal;
        watcher.Renamed += Signal;
        watcher.Deleted += Signal;
        watcher.Error += Signal;
        watcher.EnableRaisingEvents = true;
        return watcher;
    }
}
