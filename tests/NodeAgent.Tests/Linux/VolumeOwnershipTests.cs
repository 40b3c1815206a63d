using System.Diagnostics;
using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Linux;

/// <summary>kubelet's SetVolumeOwnership (volume_linux.go) by descriptors, on a real tree as root: group and rw bits
/// everywhere, setgid and group x on directories, links changed themselves and never followed; OnRootMismatch skips
/// the walk when the root already matches.</summary>
public sealed class VolumeOwnershipTests : IDisposable
{
    private const uint Gid = 4321;
    private readonly TempDir _dir = new();
    private readonly TempDir _outside = new();

    /// <summary>lstat's group and octal mode, as stat(1) prints them.</summary>
    private static string Stat(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("stat", ["-c", "%g %a", path]) { RedirectStandardOutput = true })!;
        var text = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return text;
    }

    [PrivilegedFact]
    public void EveryEntryGetsTheGroupAndBitsAndLinksAreNotFollowed()
    {
        var root = _dir.Combine("vol");
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        File.WriteAllText(Path.Combine(root, "sub", "f"), "x");
        File.SetUnixFileMode(Path.Combine(root, "sub", "f"), (UnixFileMode)0x180); // 0600
        File.SetUnixFileMode(root, (UnixFileMode)0x1C0); // 0700
        File.SetUnixFileMode(Path.Combine(root, "sub"), (UnixFileMode)0x1C0);
        var secret = _outside.Combine("host-file");
        File.WriteAllText(secret, "host");
        File.SetUnixFileMode(secret, (UnixFileMode)0x180);
        File.CreateSymbolicLink(Path.Combine(root, "escape"), secret);
        File.CreateSymbolicLink(Path.Combine(root, "up"), _outside.Path);

        Assert.True(VolumeOwnership.Set(root, Gid, readOnly: false, onRootMismatch: false));

        Assert.Equal($"{Gid} 2770", Stat(root));
        Assert.Equal($"{Gid} 2770", Stat(Path.Combine(root, "sub")));
        Assert.Equal($"{Gid} 660", Stat(Path.Combine(root, "sub", "f")));
        Assert.Equal($"{Gid} 777", Stat(Path.Combine(root, "escape")));
        // What the links point at is untouched.
        Assert.Equal("0 600", Stat(secret));
        Assert.StartsWith("0 ", Stat(_outside.Path));
    }

    [PrivilegedFact]
    public void AReadOnlyVolumeGetsGroupReadOnly()
    {
        var root = _dir.Combine("ro");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "f"), "x");
        File.SetUnixFileMode(Path.Combine(root, "f"), (UnixFileMode)0x100); // 0400
        File.SetUnixFileMode(root, (UnixFileMode)0x140); // 0500
        VolumeOwnership.Set(root, Gid, readOnly: true, onRootMismatch: false);
        Assert.Equal($"{Gid} 440", Stat(Path.Combine(root, "f")));
        Assert.Equal($"{Gid} 2550", Stat(root));
    }

    [PrivilegedFact]
    public void OnRootMismatchSkipsTheWalkWhenTheRootMatches()
    {
        var root = _dir.Combine("skip");
        Directory.CreateDirectory(root);
        var file = Path.Combine(root, "f");
        File.WriteAllText(file, "x");
        File.SetUnixFileMode(file, (UnixFileMode)0x180);
        Assert.True(VolumeOwnership.Set(root, Gid, readOnly: false, onRootMismatch: true));
        Assert.Equal($"{Gid} 660", Stat(file));

        // The root matches now: a file changed below it is not walked to.
        File.SetUnixFileMode(file, (UnixFileMode)0x180);
        Assert.False(VolumeOwnership.Set(root, Gid, readOnly: false, onRootMismatch: true));
        Assert.Equal($"{Gid} 600", Stat(file));
        // Without the policy (or with another group) it is.
        Assert.True(VolumeOwnership.Set(root, Gid, readOnly: false, onRootMismatch: false));
        Assert.Equal($"{Gid} 660", Stat(file));
        Assert.True(VolumeOwnership.Set(root, Gid + 1, readOnly: false, onRootMismatch: true));
        Assert.Equal($"{Gid + 1} 660", Stat(file));
    }

    public void Dispose()
    {
        _dir.Dispose();
        _outside.Dispose();
    }
}
