using System.Text;
using NodeAgent.Logs;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Logs;

public sealed class CriLogWriterTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new DateTimeOffset(2016, 10, 6, 0, 17, 9, TimeSpan.Zero).AddTicks(6697942);
    private readonly TempDir _dir = new("nodeagent-logs");
    private readonly ManualTimeProvider _clock = new(T0);

    public void Dispose() => _dir.Dispose();

    private string LogPath => _dir.Combine("ns_pod_uid", "ctr", "0.log");

    private CriLogWriter NewWriter(long maxSize = 0, int maxFiles = 5) => new(LogPath, maxSize, maxFiles, _clock);

    private string[] Lines(string? path = null) => File.ReadAllText(path ?? LogPath).Split('\n')[..^1];

    private static void Write(CriLogWriter w, CriStream s, string text) => w.Write(s, Encoding.UTF8.GetBytes(text));

    [Fact]
    public void Line_format_matches_containerd_exactly()
    {
        using (CriLogWriter w = NewWriter())
        {
            Write(w, CriStream.Stdout, "hello world\n");
            Write(w, CriStream.Stderr, "oops\n");
        }

        Assert.Equal(
            "2016-10-06T00:17:09.669794200Z stdout F hello world\n2016-10-06T00:17:09.669794200Z stderr F oops\n",
            File.ReadAllText(LogPath));
    }

    [Fact]
    public void Timestamp_is_utc_with_nine_fractional_digits()
    {
        var local = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(2));
        Assert.Equal("2026-01-02T01:04:05.000000000Z", CriLogFormat.FormatTimestamp(local));
        Assert.True(CriLogFormat.TryParseTimestamp("2016-10-06T00:17:09.669794202Z"u8, out DateTimeOffset t));
        Assert.Equal(T0, t); // 100 ns resolution
        Assert.True(CriLogFormat.TryParseTimestamp("2016-10-06T02:17:09.5+02:00"u8, out t));
        Assert.Equal(new DateTimeOffset(2016, 10, 6, 0, 17, 9, 500, TimeSpan.Zero), t);
    }

    [Fact]
    public void Partial_lines_across_chunks_are_joined()
    {
        using (CriLogWriter w = NewWriter())
        {
            Write(w, CriStream.Stdout, "hel");
            Write(w, CriStream.Stdout, "lo\nwor");
            Write(w, CriStream.Stdout, "ld\n\nend");
        }

        Assert.Equal(
            ["hello", "world", "", "end"],
            Lines().Select(l => l[(CriLogFormat.TimestampLength + " stdout F ".Length)..]));
        Assert.All(Lines(), l => Assert.Contains(" stdout F ", l));
    }

    [Fact]
    public void Long_lines_are_split_into_16KiB_P_chunks_then_F()
    {
        string line = new string('a', 16384 * 2) + new string('b', 1000);
        using (CriLogWriter w = NewWriter())
        {
            // Arbitrary pipe-sized chunks.
            byte[] bytes = Encoding.ASCII.GetBytes(line + "\n");
            for (int i = 0; i < bytes.Length; i += 4096)
            {
                w.Write(CriStream.Stdout, bytes.AsSpan(i, Math.Min(4096, bytes.Length - i)));
            }
        }

        string[] lines = Lines();
        Assert.Equal(3, lines.Length);
        Assert.Equal(" stdout P " + new string('a', 16384), lines[0][CriLogFormat.TimestampLength..]);
        Assert.Equal(" stdout P " + new string('a', 16384), lines[1][CriLogFormat.TimestampLength..]);
        Assert.Equal(" stdout F " + new string('b', 1000), lines[2][CriLogFormat.TimestampLength..]);
    }

    [Fact]
    public void A_line_of_exactly_16KiB_is_one_F_line()
    {
        using (CriLogWriter w = NewWriter())
        {
            Write(w, CriStream.Stdout, new string('x', 16384) + "\n");
        }

        Assert.Equal([" stdout F " + new string('x', 16384)], Lines().Select(l => l[CriLogFormat.TimestampLength..]));
    }

    [Fact]
    public void Stdout_and_stderr_keep_separate_partial_buffers()
    {
        using (CriLogWriter w = NewWriter())
        {
            Write(w, CriStream.Stdout, "out-");
            Write(w, CriStream.Stderr, "err line\n");
            Write(w, CriStream.Stdout, "line\n");
        }

        Assert.Equal([" stderr F err line", " stdout F out-line"], Lines().Select(l => l[CriLogFormat.TimestampLength..]));
    }

    [Fact]
    public void Flush_writes_pending_as_P_and_Dispose_as_F()
    {
        using (CriLogWriter w = NewWriter())
        {
            Write(w, CriStream.Stdout, "abc");
            w.Flush();
            Assert.Equal([" stdout P abc"], Lines().Select(l => l[CriLogFormat.TimestampLength..]));
            Write(w, CriStream.Stdout, "def");
        }

        Assert.Equal([" stdout P abc", " stdout F def"], Lines().Select(l => l[CriLogFormat.TimestampLength..]));
    }

    [Fact]
    public void Rotation_keeps_at_most_maxFiles_and_loses_no_line_in_kept_files()
    {
        const int MaxFiles = 3;
        const long MaxSize = 1000;
        using (CriLogWriter w = NewWriter(MaxSize, MaxFiles))
        {
            for (int i = 0; i < 200; i++)
            {
                Write(w, CriStream.Stdout, $"line {i:D4}\n");
                _clock.Advance(TimeSpan.FromMilliseconds(300)); // several rotations within one second: names stay unique
            }
        }

        IReadOnlyList<string> files = CriLogFiles.All(LogPath);
        Assert.Equal(MaxFiles, files.Count);
        Assert.Equal(MaxFiles, Directory.GetFiles(Path.GetDirectoryName(LogPath)!).Length);
        Assert.All(files, f => Assert.True(new FileInfo(f).Length <= MaxSize, f));

        int[] numbers = [.. files.SelectMany(f => Lines(f)).Select(l => int.Parse(l[^4..]))];
        Assert.Equal(199, numbers[^1]);
        Assert.Equal(Enumerable.Range(numbers[0], numbers.Length), numbers); // contiguous: nothing lost
        Assert.True(numbers.Length > 2 * (MaxSize / 60));
    }

    [Fact]
    public void Rotated_names_carry_the_time_and_stay_unique_within_a_second()
    {
        using (CriLogWriter w = NewWriter(100, 10))
        {
            for (int i = 0; i < 6; i++)
            {
                Write(w, CriStream.Stdout, new string('z', 50) + "\n");
            }
        }

        IReadOnlyList<string> rotated = CriLogFiles.Rotated(LogPath);
        Assert.Equal(5, rotated.Count);
        Assert.Equal(LogPath + ".20161006-001709", rotated[0]);
        Assert.Equal(LogPath + ".20161006-001709.001", rotated[1]);
        Assert.Equal(LogPath + ".20161006-001709.004", rotated[4]);
    }

    [Fact]
    public void An_existing_file_is_appended_to()
    {
        using (CriLogWriter w = NewWriter())
        {
            Write(w, CriStream.Stdout, "first\n");
        }

        using (CriLogWriter w = NewWriter())
        {
            Write(w, CriStream.Stdout, "second\n");
        }

        Assert.Equal(2, Lines().Length);
    }
}
