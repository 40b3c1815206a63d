using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Linux;

/// <summary>Mount targets resolve inside the container root whatever symlinks the image ships.</summary>
public sealed class RootfsPathTests : IDisposable
{
    private readonly TempDir _root = new();

    [Fact]
    public void PlainPathsJoin() => Assert.Equal(_root.Combine("etc", "hosts"), RootfsPath.Resolve(_root.Path, "/etc/hosts"));

    [Fact]
    public void DotDotStopsAtTheRoot() => Assert.Equal(_root.Combine("etc"), RootfsPath.Resolve(_root.Path, "/../../etc"));

    [Fact]
    public void AbsoluteSymlinkIsReadRelativeToTheRoot()
    {
        Directory.CreateDirectory(_root.Combine("real"));
        File.CreateSymbolicLink(_root.Combine("link"), "/real");
        Assert.Equal(_root.Combine("real", "x"), RootfsPath.Resolve(_root.Path, "/link/x"));
    }

    [Fact]
    public void EscapingSymlinkStaysInside()
    {
        File.CreateSymbolicLink(_root.Combine("evil"), "../../../../etc");
        Assert.Equal(_root.Combine("etc", "passwd"), RootfsPath.Resolve(_root.Path, "/evil/passwd"));
    }

    [Fact]
    public void SymlinkLoopsAreReported()
    {
        File.CreateSymbolicLink(_root.Combine("a"), "/b");
        File.CreateSymbolicLink(_root.Combine("b"), "/a");
        Assert.Throws<IOException>(() => RootfsPath.Resolve(_root.Path, "/a/x"));
    }

    public void Dispose() => _root.Dispose();
}
