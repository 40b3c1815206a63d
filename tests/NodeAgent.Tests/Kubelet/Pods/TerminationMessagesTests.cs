using System.Text;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>The log fallback of termination messages reads CRI log lines as kubelet does: partial lines joined,
/// the last 80 lines, at most 2 KiB (the end kept), a missing file giving nothing.</summary>
public sealed class TerminationMessagesTests : IDisposable
{
    private readonly TempDir _dir = new("nodeagent-termmsg");

    private string Log(params string[] entries)
    {
        var path = _dir.Combine($"{Guid.NewGuid():N}.log");
        File.WriteAllText(path, string.Concat(entries.Select(e => e + "\n")));
        return path;
    }

    [Fact]
    public void PartialLinesAreJoinedAndStreamsInterleave()
    {
        var path = Log("2026-12-02T06:00:00.000000000Z stdout P hello ", "2026-12-02T06:00:00.100000000Z stdout F world",
            "2026-12-02T06:00:00.200000000Z stderr F oops");
        Assert.Equal("hello world\noops\n", TerminationMessages.LogTail(path));
    }

    [Fact]
    public void OnlyTheLast80LinesAndAtMost2KiBAreKept()
    {
        var many = Log([.. Enumerable.Range(1, 200).Select(i => $"2026-12-02T06:00:00.000000000Z stdout F line {i}")]);
        var tail = TerminationMessages.LogTail(many)!.TrimEnd('\n').Split('\n');
        Assert.Equal(80, tail.Length);
        Assert.Equal("line 121", tail[0]);

        var wide = Log([.. Enumerable.Range(1, 10).Select(i => $"2026-12-02T06:00:00.000000000Z stdout F {new string((char)('a' + i), 500)}")]);
        var capped = TerminationMessages.LogTail(wide)!;
        Assert.Equal(TerminationMessages.MaxLogBytes, Encoding.UTF8.GetByteCount(capped));
        Assert.EndsWith(new string('k', 500) + "\n", capped, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingOrEmptyLogGivesNothing()
    {
        Assert.Null(TerminationMessages.LogTail(_dir.Combine("nope.log")));
        Assert.Null(TerminationMessages.LogTail(null));
        Assert.Equal("", TerminationMessages.LogTail(Log()));
    }

    public void Dispose() => _dir.Dispose();
}
