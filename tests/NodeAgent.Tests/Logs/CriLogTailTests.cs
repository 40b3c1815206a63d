using System.Text;
using NodeAgent.Logs;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Logs;

/// <summary><c>tail</c> reads the log backwards from the end: the same lines as a full read, for a bounded number of bytes.</summary>
public sealed class CriLogTailTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDir _dir = new("nodeagent-logtail");
    private readonly ManualTimeProvider _clock = new(T0);
    private long _bytesRead;

    public void Dispose() => _dir.Dispose();

    private string LogPath => _dir.Combine("ctr", "0.log");

    private static void Write(CriLogWriter w, CriStream s, string text) => w.Write(s, Encoding.UTF8.GetBytes(text));

    private CriLogReader CountingReader() => new(LogPath, null, path => new CountingFileStream(path, n => Interlocked.Add(ref _bytesRead, n)));

    private static async Task<List<CriLogEntry>> ReadAll(CriLogReader reader, CriLogReadOptions? options = null)
    {
        var list = new List<CriLogEntry>();
        await foreach (CriLogEntry e in reader.ReadAsync(options))
        {
            list.Add(e);
        }

        return list;
    }

    [Fact]
    public async Task TailOfLargeRotatedFilesReadsABoundedNumberOfBytes()
    {
        string padding = new('x', 100);
        using (var w = new CriLogWriter(LogPath, 1024 * 1024, 5, _clock))
        {
            for (int i = 0; i < 36000; i++)
            {
                Write(w, i % 7 == 0 ? CriStream.Stderr : CriStream.Stdout, $"line-{i:D6} {padding}\n");
            }
        }

        long total = CriLogFiles.All(LogPath).Sum(f => new FileInfo(f).Length);
        Assert.True(CriLogFiles.Rotated(LogPath).Count >= 3);
        Assert.True(total > 3 * 1024 * 1024, $"log is {total} bytes");

        _bytesRead = 0;
        var tail = await ReadAll(CountingReader(), new CriLogReadOptions { Tail = 10 });
        Assert.Equal(Enumerable.Range(35990, 10).Select(i => $"line-{i:D6} {padding}"), tail.Select(e => e.Content));
        Assert.True(_bytesRead < 256 * 1024, $"tail 10 read {_bytesRead} of {total} bytes");

        // A tail reaching into older rotated files reads them newest first, and only as far back as needed.
        _bytesRead = 0;
        var current = new FileInfo(LogPath).Length;
        var lineBytes = File.ReadLines(LogPath).First().Length + 1;
        var wanted = File.ReadLines(LogPath).Count() + 3000;
        var deep = await ReadAll(CountingReader(), new CriLogReadOptions { Tail = wanted });
        Assert.Equal(Enumerable.Range(36000 - wanted, wanted).Select(i => $"line-{i:D6} {padding}"), deep.Select(e => e.Content));

        // Backwards over what is needed, then forwards over the same: about twice the bytes of the lines kept.
        var files = CriLogFiles.All(LogPath);
        var from = LogTailStart.Find(files, wanted, countIncomplete: true, LogFileCursor.Open);
        Assert.True(_bytesRead < (2 * (current + (3000 * lineBytes))) + (256 * 1024),
            $"tail {wanted} read {_bytesRead} of {total} bytes; start {from}; files {string.Join(", ", files.Select(f => new FileInfo(f).Length))}");
        Assert.True(_bytesRead < total, $"tail {wanted} read the whole log ({_bytesRead} bytes)");
    }

    [Fact]
    public async Task TailEqualsTheEndOfAFullReadWithSplitInterleavedAndUnfinishedLines()
    {
        string huge = new('h', 40000); // written as 16 KiB P chunks and a final F chunk
        using (var w = new CriLogWriter(LogPath, 20 * 1024, 20, _clock))
        {
            for (int i = 0; i < 30; i++)
            {
                _clock.Advance(TimeSpan.FromSeconds(1));
                Write(w, CriStream.Stdout, $"out-{i}\n");
                if (i % 4 == 0)
                {
                    Write(w, CriStream.Stderr, $"err-start-{i}-");
                    w.Flush(); // a P chunk of stderr, interleaved with stdout lines
                }

                if (i % 5 == 0)
                {
                    Write(w, CriStream.Stdout, huge + i + "\n");
                }

                if (i % 4 == 3)
                {
                    Write(w, CriStream.Stderr, $"err-end-{i}\n");
                }
            }

            // One stream ends mid-line (its P chunks without an F): it is the last line, as where its last chunk is.
            Write(w, CriStream.Stderr, "err-final\n");
            Write(w, CriStream.Stdout, "unfinished");
            w.Flush();
        }

        Assert.True(CriLogFiles.Rotated(LogPath).Count >= 2);
        var all = await ReadAll(new CriLogReader(LogPath));
        for (int n = 0; n <= all.Count + 2; n++)
        {
            var tail = await ReadAll(new CriLogReader(LogPath), new CriLogReadOptions { Tail = n });
            Assert.Equal(all.Skip(Math.Max(0, all.Count - n)), tail);
        }
    }

    /// <summary>A file stream that reports every byte it reads.</summary>
    private sealed class CountingFileStream(string path, Action<int> counted) : FileStream(path, new FileStreamOptions
    {
        Mode = FileMode.Open,
        Access = FileAccess.Read,
        Share = FileShare.ReadWrite | FileShare.Delete,
        BufferSize = 0,
    })
    {
        // One overload may call the other: count at the outermost call only.
        private bool _reading;

        public override int Read(byte[] buffer, int offset, int count) => Count(() => base.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_reading)
            {
                return base.Read(buffer);
            }

            _reading = true;
            try
            {
                int n = base.Read(buffer);
                counted(n);
                return n;
            }
            finally
            {
                _reading = false;
            }
        }

        private int Count(Func<int> read)
        {
            if (_reading)
            {
                return read();
            }

            _reading = true;
            try
            {
                int n = read();
                counted(n);
                return n;
            }
            finally
            {
                _reading = false;
            }
        }
    }
}
