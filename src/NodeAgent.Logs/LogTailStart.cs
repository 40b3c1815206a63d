namespace NodeAgent.Logs;

/// <summary>
/// Finds where reading must start so that the last N logical lines come out whole, by reading the log backwards in
/// blocks from the end of the newest file, across rotated files newest first. It stops once it has N lines and, for
/// each stream among them, the F line that ends that stream's previous line (so every kept line has all of its P
/// chunks). The bytes read are bounded by the size of those lines, not of the log.
/// </summary>
internal static class LogTailStart
{
    private const int Block = 64 * 1024;

    /// <summary>A file (index into the list) and the byte offset in it to read forward from.</summary>
    public readonly record struct Position(int File, long Offset);

    /// <param name="files">Oldest first, the current file last.</param>
    /// <param name="tail">Logical lines wanted.</param>
    /// <param name="countIncomplete">Whether a stream's trailing P chunks without their F count as a line (they do
    /// when the reader flushes them at the end, i.e. without follow).</param>
    public static Position Find(IReadOnlyList<string> files, int tail, bool countIncomplete, Func<string, FileStream> open)
    {
        var scan = new Scan(tail, countIncomplete);
        for (int f = files.Count - 1; f >= 0; f--)
        {
            FileStream stream;
            try
            {
                stream = open(files[f]);
            }
            catch (FileNotFoundException)
            {
                continue; // rotated away and deleted meanwhile
            }

            using (stream)
            {
                if (ScanFile(stream, scan) is long offset)
                {
                    return new Position(f, offset);
                }
            }
        }

        return new Position(0, 0);
    }

    /// <summary>Scans one file backwards; the offset of the line where reading must start, or null to go on to the older file.</summary>
    private static long? ScanFile(FileStream stream, Scan scan)
    {
        long length = stream.Length;
        if (length == 0)
        {
            return null;
        }

        byte[] buffer = new byte[(int)Math.Min(Block, length)];
        long end = length; // lines before this offset are not processed yet
        bool first = true;
        while (end > 0)
        {
            long start = Math.Max(0, end - buffer.Length);
            int count = (int)(end - start);
            stream.Position = start;
            stream.ReadExactly(buffer, 0, count);
            var data = buffer.AsSpan(0, count);
            if (first)
            {
                // Bytes after the last newline are an unfinished line: the forward reader deals with them.
                int last = data.LastIndexOf((byte)'\n');
                if (last < 0 && start > 0)
                {
                    buffer = new byte[buffer.Length * 2];
                    continue;
                }

                first = false;
                end = start + last + 1;
                data = data[..(last + 1)];
                if (end == 0)
                {
                    return null;
                }
            }

            // Whole lines are those after the first newline of the block (all of them when the block starts the file).
            int firstNl = start == 0 ? -1 : data.IndexOf((byte)'\n');
            if (firstNl == data.Length - 1 && start > 0)
            {
                // One line longer than the block: read a bigger block.
                buffer = new byte[buffer.Length * 2];
                continue;
            }

            var lines = data[(firstNl + 1)..];
            long linesStart = start + firstNl + 1;
            while (lines.Length > 0)
            {
                int prev = lines[..^1].LastIndexOf((byte)'\n');
                var line = lines[(prev + 1)..^1];
                long lineStart = linesStart + prev + 1;
                if (scan.Done)
                {
                    return lineStart + line.Length + 1;
                }

                scan.Add(line);
                if (scan.Done)
                {
                    return lineStart;
                }

                lines = lines[..(prev + 1)];
            }

            end = linesStart;
            if (buffer.Length < Block && end > buffer.Length)
            {
                buffer = new byte[Block];
            }
        }

        return null;
    }

    /// <summary>The backward scan's bookkeeping, physical line by physical line, newest first.</summary>
    private sealed class Scan(int tail, bool countIncomplete)
    {
        private readonly bool[] _seen = new bool[2];
        private readonly bool[] _needBoundary = new bool[2];
        private int _lines;
        private bool _enough = tail <= 0;

        public bool Done => _enough && !_needBoundary[0] && !_needBoundary[1];

        public void Add(ReadOnlySpan<byte> line)
        {
            if (!CriLogRecord.TryParse(line, out _, out CriStream stream, out bool partial, out _, out _))
            {
                return; // malformed: the forward reader reports it if it is among the kept lines
            }

            int s = (int)stream;
            if (!_seen[s])
            {
                _seen[s] = true;
                if (partial && countIncomplete)
                {
                    // This stream ends with a line whose F never came. The reader emits such lines last (stdout's,
                    // then stderr's), whatever their position: keep all of its chunks.
                    _lines++;
                    _needBoundary[s] = true;
                }
            }

            if (!partial)
            {
                // This F ends the stream's previous line: everything of the stream after it is complete.
                _needBoundary[s] = false;
                if (!_enough)
                {
                    _lines++;
                }
            }

            if (!_enough && _lines >= tail)
            {
                // Every stream among the kept lines needs the F before its oldest kept line.
                _enough = true;
                _needBoundary[0] |= _seen[0];
                _needBoundary[1] |= _seen[1];
            }
        }
    }
}
