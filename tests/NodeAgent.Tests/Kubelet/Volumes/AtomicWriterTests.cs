using System.Text;
using NodeAgent.Kubelet.Volumes;
using NodeAgent.Runtime;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Volumes;

/// <summary>kubelet's atomic writer: the ..data link to a timestamped directory, user-visible links through it, the
/// swap on change, and paths from the API refused before anything is written.</summary>
public class AtomicWriterTests
{
    private static Dictionary<string, FileProjection> Payload(params (string Path, string Text, int Mode)[] files) =>
        files.ToDictionary(f => f.Path, f => new FileProjection(Encoding.UTF8.GetBytes(f.Text), f.Mode));

    [Fact]
    public void FilesAreReachedThroughDataLinkToATimestampedDirectory()
    {
        using var tmp = new TempDir();
        var dir = tmp.Combine("vol");
        Assert.True(AtomicWriter.Write(dir, Payload(("a", "one", 420), ("sub/b", "two", 256)), "vol", VolumeHost.Instance));

        var data = new FileInfo(Path.Combine(dir, "..data")).LinkTarget;
        Assert.NotNull(data);
        Assert.Matches(@"^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$", data);
        Assert.Equal("..data/a", new FileInfo(Path.Combine(dir, "a")).LinkTarget);
        Assert.Equal("..data/sub", new FileInfo(Path.Combine(dir, "sub")).LinkTarget);
        Assert.Equal("one", File.ReadAllText(Path.Combine(dir, "a")));
        Assert.Equal("two", File.ReadAllText(Path.Combine(dir, "sub", "b")));
        Assert.Equal((UnixFileMode)420, File.GetUnixFileMode(Path.Combine(dir, data, "a")));
        Assert.Equal((UnixFileMode)256, File.GetUnixFileMode(Path.Combine(dir, data, "sub", "b")));
    }

    [Fact]
    public void ChangedPayloadSwapsDataAndRemovesTheOldDirectoryAndGoneNames()
    {
        using var tmp = new TempDir();
        var dir = tmp.Combine("vol");
        AtomicWriter.Write(dir, Payload(("a", "one", 420), ("gone", "x", 420)), "vol", VolumeHost.Instance);
        var first = new FileInfo(Path.Combine(dir, "..data")).LinkTarget!;

        Assert.False(AtomicWriter.Write(dir, Payload(("a", "one", 420), ("gone", "x", 420)), "vol", VolumeHost.Instance));
        Assert.Equal(first, new FileInfo(Path.Combine(dir, "..data")).LinkTarget);

        Assert.True(AtomicWriter.Write(dir, Payload(("a", "changed", 420), ("new", "n", 384)), "vol", VolumeHost.Instance));
        var second = new FileInfo(Path.Combine(dir, "..data")).LinkTarget!;
        Assert.NotEqual(first, second);
        Assert.False(Directory.Exists(Path.Combine(dir, first)));
        Assert.Equal("changed", File.ReadAllText(Path.Combine(dir, "a")));
        Assert.Equal("n", File.ReadAllText(Path.Combine(dir, "new")));
        Assert.False(Path.Exists(Path.Combine(dir, "gone")));
        Assert.Null(new FileInfo(Path.Combine(dir, "gone")).LinkTarget);
        Assert.Equal(new[] { "..data", "a", "new", second }.Order(StringComparer.Ordinal).ToArray(), Directory.EnumerateFileSystemEntries(dir).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void ModeChangeAloneIsAChange()
    {
        using var tmp = new TempDir();
        var dir = tmp.Combine("vol");
        AtomicWriter.Write(dir, Payload(("a", "one", 420)), "vol", VolumeHost.Instance);
        Assert.True(AtomicWriter.Write(dir, Payload(("a", "one", 256)), "vol", VolumeHost.Instance));
        Assert.Equal((UnixFileMode)256, File.GetUnixFileMode(Path.Combine(dir, "a")));
    }

    [Theory]
    [InlineData("../escape", "must not start with '..'")]
    [InlineData("a/../../escape", "must not contain '..'")]
    [InlineData("/etc/passwd", "must be relative path")]
    [InlineData("..data", "must not start with '..'")]
    [InlineData("", "must not be empty")]
    [InlineData("a\0b", "must not contain NUL")]
    [InlineData(".", "names the volume itself")]
    public void HostilePathsAreRefusedBeforeAnythingIsWritten(string path, string why)
    {
        using var tmp = new TempDir();
        var dir = tmp.Combine("vol");
        AtomicWriter.Write(dir, Payload(("keep", "old", 420)), "vol", VolumeHost.Instance);
        var before = new FileInfo(Path.Combine(dir, "..data")).LinkTarget;

        var e = Assert.Throws<VolumeException>(() => AtomicWriter.Write(dir, Payload(("fine", "x", 420), (path, "evil", 420)), "vol", VolumeHost.Instance));
        Assert.Contains(why, e.Message);
        Assert.Contains("volume vol", e.Message);
        Assert.Equal(before, new FileInfo(Path.Combine(dir, "..data")).LinkTarget);
        Assert.Equal("old", File.ReadAllText(Path.Combine(dir, "keep")));
        Assert.False(Path.Exists(Path.Combine(dir, "fine")));
        Assert.False(File.Exists(tmp.Combine("escape")));
    }

    [Fact]
    public void APathThatIsBothFileAndDirectoryIsRefused()
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<VolumeException>(() => AtomicWriter.Write(tmp.Combine("vol"), Payload(("a", "1", 420), ("a/b", "2", 420)), "vol", VolumeHost.Instance));
        Assert.Contains("\"a\" is also a file", e.Message);
    }

    [Fact]
    public void ALinkPlantedAtAVisibleNameIsNeitherFollowedNorReplaced()
    {
        using var tmp = new TempDir();
        var dir = tmp.Combine("vol");
        Directory.CreateDirectory(dir);
        var outside = tmp.Combine("outside");
        File.WriteAllText(outside, "host file");
        File.CreateSymbolicLink(Path.Combine(dir, "a"), outside);

        var e = Assert.Throws<VolumeException>(() => AtomicWriter.Write(dir, Payload(("a", "evil", 420)), "vol", VolumeHost.Instance));
        Assert.Contains("is not the writer's link", e.Message);
        Assert.Equal("host file", File.ReadAllText(outside));
    }

    [Fact]
    public void ALeftoverDirectoryFromACrashIsRemovedOnTheNextWrite()
    {
        using var tmp = new TempDir();
        var dir = tmp.Combine("vol");
        AtomicWriter.Write(dir, Payload(("a", "1", 420)), "vol", VolumeHost.Instance);
        Directory.CreateDirectory(Path.Combine(dir, "..2020_01_01_00_00_00.1"));
        AtomicWriter.Write(dir, Payload(("a", "2", 420)), "vol", VolumeHost.Instance);
        Assert.False(Directory.Exists(Path.Combine(dir, "..2020_01_01_00_00_00.1")));
        Assert.Equal("2", File.ReadAllText(Path.Combine(dir, "a")));
    }
}
