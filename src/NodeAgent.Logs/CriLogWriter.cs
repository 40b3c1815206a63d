using System.Text;

namespace NodeAgent.Logs;

/// <summary>
/// Writes a container's output in the CRI log format, <c>&lt;RFC3339Nano&gt; &lt;stdout|stderr&gt; &lt;F|P&gt; &lt;line&gt;</c>:
/// one record per line, lines over 16 KiB split into P records ending with an F record, a trailing partial line
/// flushed as F when the stream ends. Rotates by size like kubelet (containerLogMaxSize/MaxFiles).
/// Synchronous and allocation-light: the per-container shim uses it.
/// </summary>
public sealed class CriLogWriter : IDisposable
{
    public const int MaxLineBytes = 16 * 1024;

    private readonly string _path;
    private readonly long _maxSize;
    private readonly int _maxFiles;
    private readonly TimeProvider _time;
    private readonly byte[][] _pending = [new byte[MaxLineBytes], new byte[MaxLineBytes]];
    private readonly int[] _pendingLength = new int[2];
    private readonly byte[] _header = new byte[64];
    private FileStream _file;

    public CriLogWriter(string path, long maxSizeBytes, int maxFiles, TimeProvider? time = null)
    {
        _path = path;
        _maxSize = maxSizeBytes;
        _maxFiles = Math.Max(1, maxFiles);
        _time = time ?? TimeProvider.System;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _file = Open();
    }

    public void Write(CriStream stream, ReadOnlySpan<byte> chunk)
    {
        var s = (int)stream;
        while (!chunk.IsEmpty)
        {
            var newline = chunk.IndexOf((byte)'\n');
            var take = newline < 0 ? chunk.Length : newline;
            var room = MaxLineBytes - _pendingLength[s];
            if (take > room)
            {
                // The line is longer than a record may be: emit what fills the buffer as a partial record.
                Append(s, chunk[..room]);
                Emit(stream, partial: true);
                chunk = chunk[room..];
                continue;
            }

            Append(s, chunk[..take]);
            if (newline < 0)
            {
                return;
            }

            Emit(stream, partial: false);
            chunk = chunk[(newline + 1)..];
        }
    }

    public void Flush() => _file.Flush();

    private void Append(int s, ReadOnlySpan<byte> data)
    {
        data.CopyTo(_pending[s].AsSpan(_pendingLength[s]));
        _pendingLength[s] += data.Length;
    }

    private void Emit(CriStream stream, bool partial)
    {
        var s = (int)stream;
        var header = FormatHeader(_time.GetUtcNow(), stream, partial);
        var recordLength = header + _pendingLength[s] + 1;
        if (_maxSize > 0 && _file.Length > 0 && _file.Length + recordLength > _maxSize)
        {
            Rotate();
        }

        _file.Write(_header, 0, header);
        _file.Write(_pending[s], 0, _pendingLength[s]);
        _file.WriteByte((byte)'\n');
        _file.Flush();
        _pendingLength[s] = 0;
    }

    private int FormatHeader(DateTimeOffset now, CriStream stream, bool partial)
    {
        var utc = now.UtcDateTime;
        var text = utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", System.Globalization.CultureInfo.InvariantCulture) + "00Z " +
                   (stream == CriStream.Stdout ? "stdout " : "stderr ") + (partial ? "P " : "F ");
        return Encoding.ASCII.GetBytes(text, _header);
    }

    /// <summary>Renames the current file to <c>&lt;path&gt;.&lt;yyyyMMdd-HHmmss&gt;</c>, opens a new one, drops the oldest beyond MaxFiles.</summary>
    private void Rotate()
    {
        _file.Dispose();
        var stamp = _time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture);
        var rotated = $"{_path}.{stamp}";
        for (var n = 1; File.Exists(rotated); n++)
        {
            rotated = $"{_path}.{stamp}.{n}";
        }

        File.Move(_path, rotated);
        foreach (var old in RotatedFiles(_path).SkipLast(_maxFiles - 1))
        {
            File.Delete(old);
        }

        _file = Open();
    }

    /// <summary>Rotated files of a log, oldest first.</summary>
    public static IReadOnlyList<string> RotatedFiles(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var name = Path.GetFileName(path) + ".";
        return Directory.EnumerateFiles(dir, name + "*")
            .Where(f => Path.GetFileName(f).Length > name.Length && char.IsAsciiDigit(Path.GetFileName(f)[name.Length]))
            .OrderBy(f => File.GetLastWriteTimeUtc(f))
            .ThenBy(f => f, StringComparer.Ordinal)
            .ToList();
    }

    private FileStream Open() => new(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1);

    public void Dispose()
    {
        for (var s = 0; s < 2; s++)
        {
            if (_pendingLength[s] > 0)
            {
                Emit((CriStream)s, partial: false);
            }
        }

        _file.Dispose();
    }
}
