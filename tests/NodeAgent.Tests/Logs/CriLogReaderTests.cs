using System.Text;
using NodeAgent.Logs;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Logs;

public sealed class CriLogReaderTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDir _dir = new("nodeagent-logs");
    private readonly ManualTimeProvider _clock = new(T0);

    public void Dispose() => _dir.Dispose();

    private string LogPath => _dir.Combine("ctr", "0.log");

    private static void Write(CriLogWriter w, CriStream s, string text) => w.Write(s, Encoding.UTF8.GetBytes(text));

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
    public async Task Round_trip_joins_P_chunks_and_keeps_streams_and_times()
    {
        string longLine = new string('q', 40000);
        using (var w = new CriLogWriter(LogPath, 0, 2, _clock))
        {
            Write(w, CriStream.Stdout, "one\n");
            _clock.Advance(TimeSpan.FromSeconds(1));
            Write(w, CriStream.Stderr, "two\n");
            Write(w, CriStream.Stdout, longLine + "\n");
            Write(w, CriStream.Stdout, "unterminated");
        }

        List<CriLogEntry> entries = await ReadAll(new CriLogReader(LogPath));
        Assert.Equal(
            [
                new CriLogEntry(T0, CriStream.Stdout, "one"),
                new CriLogEntry(T0.AddSeconds(1), CriStream.Stderr, "two"),
                new CriLogEntry(T0.AddSeconds(1), CriStream.Stdout, longLine),
                new CriLogEntry(T0.AddSeconds(1), CriStream.Stdout, "unterminated"),
            ],
            entries);
    }

    [Fact]
    public async Task Reads_rotated_files_then_current_in_order()
    {
        using (var w = new CriLogWriter(LogPath, 500, 100, _clock))
        {
            for (int i = 0; i < 100; i++)
            {
                Write(w, CriStream.Stdout, $"n{i}\n");
            }
        }

        Assert.True(CriLogFiles.Rotated(LogPath).Count > 3);
        List<CriLogEntry> entries = await ReadAll(new CriLogReader(LogPath));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"n{i}"), entries.Select(e => e.Content));
    }

    [Fact]
    public async Task Tail_and_since_select_like_kubelet()
    {
        using (var w = new CriLogWriter(LogPath, 300, 100, _clock))
        {
            for (int i = 0; i < 20; i++)
            {
                Write(w, CriStream.Stdout, $"n{i}\n");
                _clock.Advance(TimeSpan.FromSeconds(1));
            }
        }

        var reader = new CriLogReader(LogPath);
        Assert.Equal(["n17", "n18", "n19"], (await ReadAll(reader, new CriLogReadOptions { Tail = 3 })).Select(e => e.Content));
        Assert.Equal(["n18", "n19"], (await ReadAll(reader, new CriLogReadOptions { Since = T0.AddSeconds(18) })).Select(e => e.Content));
        Assert.Equal(["n19"], (await ReadAll(reader, new CriLogReadOptions { Tail = 5, Since = T0.AddSeconds(19) })).Select(e => e.Content));
        Assert.Empty(await ReadAll(reader, new CriLogReadOptions { Tail = 0 }));
    }

    [Fact]
    public async Task Malformed_lines_are_reported_with_file_and_line_number()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LogPath)!);
        File.WriteAllText(LogPath,
            "2026-11-22T12:00:00.000000000Z stdout F good\n" +
            "garbage\n" +
            "2026-11-22T12:00:00.000000000Z stdin F bad stream\n" +
            "2026-11-22T12:00:00.000000000Z stdout X bad tag\n" +
            "2026-11-22T12:00:01.000000000Z stderr F also good\n");
        var bad = new List<CriLogMalformedLine>();
        List<CriLogEntry> entries = await ReadAll(new CriLogReader(LogPath, bad.Add));

        Assert.Equal(["good", "also good"], entries.Select(e => e.Content));
        Assert.Equal([2L, 3L, 4L], bad.Select(b => b.LineNumber));
        Assert.All(bad, b => Assert.Equal(LogPath, b.File));
        Assert.Contains("neither stdout nor stderr", bad[1].Reason);
        Assert.Contains("neither F nor P", bad[2].Reason);
    }

    [Fact]
    public async Task Follow_sees_lines_appended_after_start()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var w = new CriLogWriter(LogPath, 0, 2, _clock);
        Write(w, CriStream.Stdout, "before\n");

        await using IAsyncEnumerator<CriLogEntry> e = new CriLogReader(LogPath)
            .ReadAsync(new CriLogReadOptions { Follow = true }, cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await e.MoveNextAsync());
        Assert.Equal("before", e.Current.Content);

        ValueTask<bool> next = e.MoveNextAsync();
        Assert.False(next.IsCompleted); // nothing new yet: the reader is waiting on the kernel's notification
        Write(w, CriStream.Stderr, "after\n");
        Assert.True(await next);
        Assert.Equal(new CriLogEntry(T0, CriStream.Stderr, "after"), e.Current);
    }

    [Fact]
    public async Task Follow_continues_across_rotations_without_losing_lines()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var w = new CriLogWriter(LogPath, 400, 50, _clock);
        Write(w, CriStream.Stdout, "l0\n");

        await using IAsyncEnumerator<CriLogEntry> e = new CriLogReader(LogPath)
            .ReadAsync(new CriLogReadOptions { Follow = true }, cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await e.MoveNextAsync());
        Assert.Equal("l0", e.Current.Content);

        for (int i = 1; i < 60; i++)
        {
            Write(w, CriStream.Stdout, $"l{i}\n");
            if (i % 7 == 0)
            {
                // Let the reader catch up part of the time, so it sees rotations both mid-read and while waiting.
                Assert.True(await e.MoveNextAsync());
                Assert.Equal($"l{i - 6}", e.Current.Content);
                for (int j = i - 5; j <= i; j++)
                {
                    Assert.True(await e.MoveNextAsync());
                    Assert.Equal($"l{j}", e.Current.Content);
                }
            }
        }

        Assert.True(CriLogFiles.Rotated(LogPath).Count >= 3);
        for (int j = 57; j < 60; j++)
        {
            Assert.True(await e.MoveNextAsync());
            Assert.Equal($"l{j}", e.Current.Content);
        }
    }

    [Fact]
    public async Task Follow_waits_for_a_log_file_that_does_not_exist_yet()
    {
        using var cts = new CancellationTokenSource(Timeout);
        Directory.CreateDirectory(Path.GetDirectoryName(LogPath)!);
        await using IAsyncEnumerator<CriLogEntry> e = new CriLogReader(LogPath)
            .ReadAsync(new CriLogReadOptions { Follow = true }, cts.Token).GetAsyncEnumerator(cts.Token);
        ValueTask<bool> next = e.MoveNextAsync();
        using var w = new CriLogWriter(LogPath, 0, 2, _clock);
        Write(w, CriStream.Stdout, "hi\n");
        Assert.True(await next);
        Assert.Equal("hi", e.Current.Content);
    }

    [Fact]
    public async Task Follow_stops_on_cancellation()
    {
        using var cts = new CancellationTokenSource();
        using var w = new CriLogWriter(LogPath, 0, 2, _clock);
        await using IAsyncEnumerator<CriLogEntry> e = new CriLogReader(LogPath)
            .ReadAsync(new CriLogReadOptions { Follow = true }, cts.Token).GetAsyncEnumerator(cts.Token);
        ValueTask<bool> next = e.MoveNextAsync();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await next);
    }
}
