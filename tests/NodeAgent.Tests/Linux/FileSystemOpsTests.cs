using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Linux;

/// <summary>The single-syscall file operations cgroupfs needs: errno comes back exactly, as a LinuxException.</summary>
public sealed class FileSystemOpsTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public void MakeDirectory_reports_an_existing_directory_and_RemoveDirectory_a_missing_one()
    {
        var path = _dir.Combine("d");
        Assert.True(FileSystemOps.MakeDirectory(path, 0x1ED));
        Assert.True(Directory.Exists(path));
        Assert.False(FileSystemOps.MakeDirectory(path, 0x1ED));
        Assert.True(FileSystemOps.RemoveDirectory(path));
        Assert.False(FileSystemOps.RemoveDirectory(path));
    }

    [Fact]
    public void RemoveDirectory_of_a_non_empty_directory_throws_with_its_errno()
    {
        var path = _dir.Combine("full");
        Directory.CreateDirectory(Path.Combine(path, "child"));
        var e = Assert.Throws<LinuxException>(() => FileSystemOps.RemoveDirectory(path));
        Assert.Equal(ErrnoNames.ENOTEMPTY, e.Errno);
        Assert.Equal($"rmdir {path}: Directory not empty (ENOTEMPTY)", e.Message);
    }

    [Fact]
    public void WriteOnce_replaces_the_content_of_an_existing_file_and_never_creates_one()
    {
        var path = _dir.Combine("f");
        File.WriteAllText(path, "old content");
        FileSystemOps.WriteOnce(path, "new"u8);
        Assert.Equal("new", File.ReadAllText(path));

        var missing = _dir.Combine("missing");
        var e = Assert.Throws<LinuxException>(() => FileSystemOps.WriteOnce(missing, "x"u8));
        Assert.Equal("open", e.Operation);
        Assert.Equal(ErrnoNames.ENOENT, e.Errno);
        Assert.False(File.Exists(missing));
    }

    public void Dispose() => _dir.Dispose();
}
