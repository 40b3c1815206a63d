using System.Globalization;

namespace NodeAgent.Logs;

/// <summary>
/// Writes a container's stdout/stderr in the CRI log format, with size-based rotation like kubelet's
/// containerLogMaxSize/containerLogMaxFiles. Not thread-safe: the caller (one shim) serialises writes.
/// Each physical log line is written with one write(2), so readers never see half a line once it is there.
/// </summary>
public sealed class CriLogWriter : IDisposable
{
    private const int HeaderMax = CriLogFormat.TimestampLength + 1 + 6 + 1 + 1 + 1;

    private readonly string _path;
    private readonly long _maxSizeBytes;
    private readonly int _maxFiles;
    private readonly TimeProvider _time;
    private readonly byte[][] _pending = [new byte[CriLogFormat.MaxLineContentBytes], new byte[CriLogFormat.MaxLineContentBytes]];
    private readonly int[] _pendingLength = new int[2];
    private readonly byte[] _line = new byte[HeaderMax + CriLogFormat.MaxLineContentBytes + 1];
    private FileStream _file;
    private long _size;
    private bool _disposed;

    /// <param name="path">The current log file, e.g. <c>/var/log/pods/ns_pod_uid/ctr/0.log</c>; appended to if it exists.</param>
    /// <param name="maxSizeBytes">Rotate before a line would make the file larger than this; 0 or less disables rotation.</param>
    /// <param name="maxFiles">Most files kept, the current one included (at least 1).</param>
    /// <param name="timeProvider">Clock for timestamps and rotated file names; <see cref="TimeProvider.System"/> by default.</param>
    public CriLogWriter(string path, long maxSizeBytes, int maxFiles, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFiles, 1);
        _path = System.IO.Path.GetFullPath(path);
        _maxSizeBytes = maxSizeBytes;
        _maxFiles = maxFiles;
        _time = timeProvider ?? TimeProvider.System;
        _file = Open();
        _size = _file.Length;
    }

    /// <summary>The current log file.</summary>
    public string Path => _path;

    /// <summary>Accepts an arbitrary chunk read from the container's pipe; complete lines are written at once, the rest is kept.</summary>
    public void Write(CriStream stream, ReadOnlySpan<byte> chunk)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int s = (int)stream;
        byte[] pending = _pending[s];
        while (!chunk.IsEmpty)
        {
            int newline = chunk.IndexOf((byte)'\n');
            ReadOnlySpan<byte> segment = newline < 0 ? chunk : chunk[..newline];

            // Fill the pending buffer; every time it is full emit a P chunk (containerd: bufio reader of 16 KiB).
            while (!segment.IsEmpty)
            {
                int room = pending.Length - _pendingLength[s];
                if (room == 0)
                {
                    // More content for a line that already fills a chunk: the chunk so far is partial.
                    EmitPending(stream, CriLogFormat.PartialTag);
                    continue;
                }

                int take = Math.Min(room, segment.Length);
                segment[..take].CopyTo(pending.AsSpan(_pendingLength[s]));
                _pendingLength[s] += take;
                segment = segment[take..];
            }

            if (newline < 0)
            {
                return;
            }

            EmitPending(stream, CriLogFormat.FullTag);
            chunk = chunk[(newline + 1)..];
        }
    }

    /// <summary>Writes any pending partial line as a P chunk (more of it may follow).</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        FlushPending(CriLogFormat.PartialTag);
    }

    /// <summary>Writes any pending partial line as the last (F) chunk of its line and closes the file.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        FlushPending(CriLogFormat.FullTag);
        _disposed = true;
        _file.Dispose();
    }

    private void FlushPending(byte tag)
    {
        for (int s = 0; s < 2; s++)
        {
            if (_pendingLength[s] > 0)
            {
                EmitPending((CriStream)s, tag);
            }
        }
    }

    private void EmitPending(CriStream stream, byte tag)
    {
        int s = (int)stream;
        Span<byte> line = _line;
        int pos = CriLogFormat.FormatTimestamp(_time.GetUtcNow(), line);
        line[pos++] = (byte)' ';
        ReadOnlySpan<byte> name = stream == CriStream.Stdout ? CriLogFormat.StdoutName : CriLogFormat.StderrName;
        name.CopyTo(line[pos..]);
        pos += name.Length;
        line[pos++] = (byte)' ';
        line[pos++] = tag;
        line[pos++] = (byte)' ';
        _pending[s].AsSpan(0, _pendingLength[s]).CopyTo(line[pos..]);
        pos += _pendingLength[s];
        line[pos++] = (byte)'\n';
        _pendingLength[s] = 0;

        if (_maxSizeBytes > 0 && _size > 0 && _size + pos > _maxSizeBytes)
        {
            Rotate();
        }

        _file.Write(line[..pos]);
        _size += pos;
    }

    private FileStream Open()
    {
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(_path)!);
            return new FileStream(_path, new FileStreamOptions
            {
                Mode = FileMode.Append,
                Access = FileAccess.Write,
                Share = FileShare.ReadWrite | FileShare.Delete,
                BufferSize = 0,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"container log {_path}: opening for append: {e.Message}", e);
        }
    }

    private void Rotate()
    {
        _file.Dispose();
        string stamp = _time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        string rotated = _path + "." + stamp;
        for (int n = 1; File.Exists(rotated); n++)
        {
            rotated = _path + "." + stamp + "." + n.ToString("D3", CultureInfo.InvariantCulture);
        }

        try
        {
            File.Move(_path, rotated);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"container log {_path}: rotating to {rotated}: {e.Message}", e);
        }

        IReadOnlyList<string> old = CriLogFiles.Rotated(_path);
        for (int i = 0; i < old.Count - (_maxFiles - 1); i++)
        {
            File.Delete(old[i]);
        }

        _file = Open();
        _size = 0;
    }
}
