namespace NodeAgent.Logs;

/// <summary>Reads complete physical lines from one log file, remembering the position and line number.</summary>
internal sealed class LogFileCursor : IDisposable
{
    private readonly FileStream _stream;
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public LogFileCursor(string path)
        : this(path, Open, 0)
    {
    }

    /// <param name="start">Byte offset to read from (the start of a line); line numbers then count from there.</param>
    public LogFileCursor(string path, Func<string, FileStream> open, long start)
    {
        Path = path;
        _stream = open(path);
        if (start > 0)
        {
            _stream.Position = start;
        }
    }

    /// <summary>Opens a log file for reading while the writer appends, rotates and deletes.</summary>
    public static FileStream Open(string path) => new(path, new FileStreamOptions
    {
        Mode = FileMode.Open,
        Access = FileAccess.Read,
        Share = FileShare.ReadWrite | FileShare.Delete,
        BufferSize = 0,
    });

    public string Path { get; }

    /// <summary>Number of the last line returned (1-based).</summary>
    public long LineNumber { get; private set; }

    /// <summary>Bytes read past the last newline (an incomplete line).</summary>
    public ReadOnlySpan<byte> Remainder => _buffer.AsSpan(_start, _end - _start);

    /// <summary>True when the path this cursor opened now names another file (the log was rotated).</summary>
    public bool WasRotated()
    {
        string link = "/proc/self/fd/" + _stream.SafeFileHandle.DangerousGetHandle().ToInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        string? target = File.ResolveLinkTarget(link, returnFinalTarget: false)?.FullName;
        return target is null || target != Path;
    }

    /// <summary>The next complete line without its newline, or false when none is available yet.</summary>
    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            int nl = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                line = _buffer.AsSpan(_start, nl);
                _start += nl + 1;
                LineNumber++;
                return true;
            }

            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            if (_end == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }

            int n = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (n == 0)
            {
                line = default;
                return false;
            }

            _end += n;
        }
    }

    public void Dispose() => _stream.Dispose();
}
