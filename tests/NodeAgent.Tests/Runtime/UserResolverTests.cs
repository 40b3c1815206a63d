using NodeAgent.Runtime.Containers;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime;

public sealed class UserResolverTests : IDisposable
{
    private readonly TempDir _root = new();

    public UserResolverTests()
    {
        Directory.CreateDirectory(_root.Combine("etc"));
        File.WriteAllText(_root.Combine("etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n");
        File.WriteAllText(_root.Combine("etc", "group"), "root:x:0:\nappgrp:x:1001:\nextra:x:2000:app,other\n");
    }

    [Fact]
    public void EmptyUserIsRoot() => Assert.Equal((0u, 0u), Ids(null, null, null));

    [Fact]
    public void NameResolvesThroughPasswdWithSupplementaryGroups()
    {
        var (uid, gid, groups) = UserResolver.Resolve(_root.Path, "app", null, null);
        Assert.Equal((1000u, 1001u), (uid, gid));
        Assert.Equal([2000u], groups);
    }

    [Fact]
    public void NumericUserWithGroupName() => Assert.Equal((1000u, 1001u), Ids("1000:appgrp", null, null));

    [Fact]
    public void UnknownNumericUserKeepsGidZero() => Assert.Equal((4242u, 0u), Ids("4242", null, null));

    [Fact]
    public void RunAsUserAndGroupOverrideTheImage() => Assert.Equal((65534u, 7u), Ids("app", 65534, 7));

    [Fact]
    public void UnknownNameIsAClearError()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => UserResolver.Resolve(_root.Path, "ghost", null, null));
        Assert.Contains("unable to find user ghost", ex.Message);
    }

    [Fact]
    public void PasswdSymlinkCannotEscapeTheRootfs()
    {
        File.Delete(_root.Combine("etc", "passwd"));
        File.CreateSymbolicLink(_root.Combine("etc", "passwd"), "/etc/passwd");
        // Inside the rootfs /etc/passwd is the link itself: a loop, reported as such; the host's users never show.
        var ex = Assert.Throws<InvalidOperationException>(() => UserResolver.Resolve(_root.Path, "daemon", null, null));
        Assert.Contains("/etc/passwd", ex.Message);
    }

    private (uint, uint) Ids(string? user, long? runAsUser, long? runAsGroup)
    {
        var (uid, gid, _) = UserResolver.Resolve(_root.Path, user, runAsUser, runAsGroup);
        return (uid, gid);
    }

    public void Dispose() => _root.Dispose();
}
