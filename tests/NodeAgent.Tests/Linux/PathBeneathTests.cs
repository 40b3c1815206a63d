using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Linux;

/// <summary>
/// subPath resolution (the CVE-2017-1002101 pattern): a path beneath a volume a container can write resolves
/// beneath it or fails; symlinks that stay inside are followed, as kubelet's subpath code allows.
/// </summary>
public sealed class PathBeneathTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _volume;
    private readonly string _outside;

    public PathBeneathTests()
    {
        _volume = _dir.Combine("volume");
        _outside = _dir.Combine("outside");
        Directory.CreateDirectory(_volume);
        Directory.CreateDirectory(_outside);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_symlink_to_the_host_root_is_refused(bool create)
    {
        File.CreateSymbolicLink(Path.Combine(_volume, "x"), "/");
        Assert.Equal(ErrnoNames.EXDEV, Assert.Throws<LinuxException>(() => PathBeneath.Open(_volume, "x", create)).Errno);
        Assert.Equal(ErrnoNames.EXDEV, Assert.Throws<LinuxException>(() => PathBeneath.Open(_volume, "x/etc", create)).Errno);
    }

    [Fact]
    public void A_symlink_climbing_out_with_dot_dot_is_refused()
    {
        File.CreateSymbolicLink(Path.Combine(_volume, "up"), "../..");
        var e = Assert.Throws<LinuxException>(() => PathBeneath.Open(_volume, "up", createMissingDirectories: true));
        Assert.Equal(ErrnoNames.EXDEV, e.Errno);
        Assert.Contains($"up beneath {_volume}", e.Message);
    }

    [Fact]
    public void Directories_are_never_created_through_a_symlink_that_leads_out()
    {
        File.CreateSymbolicLink(Path.Combine(_volume, "x"), "../outside");
        Assert.Equal(ErrnoNames.EXDEV, Assert.Throws<LinuxException>(() => PathBeneath.Open(_volume, "x/new/deeper", true)).Errno);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_outside));
    }

    [Fact]
    public void An_absolute_symlink_is_refused_even_when_it_names_the_volume_itself()
    {
        Directory.CreateDirectory(Path.Combine(_volume, "real"));
        File.CreateSymbolicLink(Path.Combine(_volume, "abs"), Path.Combine(_volume, "real"));
        Assert.Equal(ErrnoNames.EXDEV, Assert.Throws<LinuxException>(() => PathBeneath.Open(_volume, "abs")).Errno);
    }

    [Fact]
    public void A_symlink_loop_is_refused()
    {
        File.CreateSymbolicLink(Path.Combine(_volume, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(_volume, "b"), "a");
        Assert.Equal(ErrnoNames.ELOOP, Assert.Throws<LinuxException>(() => PathBeneath.Open(_volume, "a")).Errno);
        Assert.Equal(ErrnoNames.ELOOP, Assert.Throws<LinuxException>(() => PathBeneath.Open(_volume, "a/x", true)).Errno);
    }

    [Fact]
    public void A_dangling_symlink_is_not_found_and_no_directory_is_made_at_its_target()
    {
        File.CreateSymbolicLink(Path.Combine(_volume, "d"), "missing");
        Assert.Equal(ErrnoNames.ENOENT, Assert.Throws<LinuxException>(() => PathBeneath.Open(_volume, "d")).Errno);
        Assert.Equal(ErrnoNames.ELOOP, Assert.Throws<LinuxException>(() => PathBeneath.Open(_volume, "d", createMissingDirectories: true)).Errno);
        Assert.False(Directory.Exists(Path.Combine(_volume, "missing")));
    }

    [Fact]
    public void A_regular_file_opens_as_a_file()
    {
        File.WriteAllText(Path.Combine(_volume, "config.txt"), "x");
        using var handle = PathBeneath.Open(_volume, "config.txt", createMissingDirectories: true);
        Assert.Equal(FileKind.Regular, handle.Kind);
        Assert.Equal(Path.Combine(_volume, "config.txt"), handle.CurrentPath);
    }

    [Fact]
    public void Missing_nested_directories_are_created_with_the_volume_mode()
    {
        File.SetUnixFileMode(_volume, (UnixFileMode)0x1FF); // 0777: the umask must not narrow what is created.
        using var handle = PathBeneath.Open(_volume, "a/b/c", createMissingDirectories: true);
        Assert.Equal(FileKind.Directory, handle.Kind);
        Assert.Equal(Path.Combine(_volume, "a", "b", "c"), handle.CurrentPath);
        foreach (var dir in new[] { "a", "a/b", "a/b/c" })
        {
            Assert.Equal((UnixFileMode)0x1FF, File.GetUnixFileMode(Path.Combine(_volume, dir)));
        }
    }

    [Fact]
    public void Without_creation_a_missing_path_is_not_found()
    {
        Assert.Equal(ErrnoNames.ENOENT, Assert.Throws<LinuxException>(() => PathBeneath.Open(_volume, "nope/deeper")).Errno);
        Assert.False(Directory.Exists(Path.Combine(_volume, "nope")));
    }

    [Fact]
    public void A_symlink_that_stays_inside_the_volume_is_followed()
    {
        Directory.CreateDirectory(Path.Combine(_volume, "real", "dir"));
        File.CreateSymbolicLink(Path.Combine(_volume, "link"), "real");
        File.CreateSymbolicLink(Path.Combine(_volume, "real", "sibling"), "../real/dir");
        using var viaLink = PathBeneath.Open(_volume, "link/dir");
        Assert.Equal(Path.Combine(_volume, "real", "dir"), viaLink.CurrentPath);
        using var viaDotDot = PathBeneath.Open(_volume, "real/sibling/new", createMissingDirectories: true);
        Assert.Equal(Path.Combine(_volume, "real", "dir", "new"), viaDotDot.CurrentPath);
    }

    [Fact]
    public void The_volume_root_itself_may_be_reached_through_a_symlink()
    {
        var alias = _dir.Combine("alias");
        File.CreateSymbolicLink(alias, _volume);
        using var handle = PathBeneath.Open(alias, "./sub//", createMissingDirectories: true);
        Assert.Equal(Path.Combine(_volume, "sub"), handle.CurrentPath);
    }

    [Theory]
    [InlineData("/etc")]
    [InlineData("a/../../b")]
    [InlineData("..")]
    [InlineData("a\0b")]
    public void Paths_that_are_absolute_climb_or_hold_a_NUL_are_refused_before_any_syscall(string relative) =>
        Assert.Throws<ArgumentException>(() => PathBeneath.Open(_volume, relative, createMissingDirectories: true));

    public void Dispose() => _dir.Dispose();
}
