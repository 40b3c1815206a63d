using System.Diagnostics;
using System.Formats.Tar;
using NodeAgent.Images;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Images;

public sealed class LayerUnpackerTests
{
    private static async Task<(ImageStore Store, OverlaySnapshotter Snapshotter, ImageRecord Image)> ImportAsync(TempDir tmp, string name, params byte[][] layers)
    {
        var archive = tmp.Combine(Guid.NewGuid().ToString("N") + ".tar");
        OciTestImage.WriteOciArchive(archive, name, layers);
        var store = new ImageStore(tmp.Combine("root"));
        var image = (await store.ImportAsync(archive, CancellationToken.None))[0];
        return (store, new OverlaySnapshotter(store.Root, store.Content), image);
    }

    [PrivilegedFact]
    public async Task UnpacksFilesLinksDevicesOwnersModesAndXattrs()
    {
        using var tmp = new TempDir();
        var layer = OciTestImage.Tar(w =>
        {
            OciTestImage.Dir(w, "bin/");
            OciTestImage.File(w, "bin/tool", "#!/bin/sh\n", mode: 0b111_101_101);
            OciTestImage.Link(w, TarEntryType.SymbolicLink, "bin/alias", "tool");
            OciTestImage.Link(w, TarEntryType.HardLink, "bin/hard", "bin/tool");
            w.WriteEntry(new PaxTarEntry(TarEntryType.CharacterDevice, "dev-null") { DeviceMajor = 1, DeviceMinor = 3, Mode = (UnixFileMode)0b110_110_110 });
            w.WriteEntry(new PaxTarEntry(TarEntryType.Fifo, "pipe") { Mode = (UnixFileMode)0b110_100_000 });
            w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "owned", new Dictionary<string, string> { ["SCHILY.xattr.user.note"] = "hello" })
            {
                DataStream = new MemoryStream([1, 2, 3]), Uid = 1234, Gid = 5678, Mode = (UnixFileMode)0b100_000_000,
                ModificationTime = new DateTimeOffset(2001, 2, 3, 4, 5, 6, TimeSpan.Zero),
            });
        });
        var (_, snapshotter, image) = await ImportAsync(tmp, "localhost/full:1", layer);

        var dir = Assert.Single(await snapshotter.EnsureLayersAsync(image, CancellationToken.None));

        Assert.Equal("#!/bin/sh\n", await File.ReadAllTextAsync(Path.Combine(dir, "bin", "tool")));
        Assert.Equal("tool", new FileInfo(Path.Combine(dir, "bin", "alias")).LinkTarget);
        Assert.Equal("2", Stat(Path.Combine(dir, "bin", "hard"), "%h"));
        Assert.Equal("character special file 1:3", Stat(Path.Combine(dir, "dev-null"), "%F %Hr:%Lr"));
        Assert.Equal("fifo 640", Stat(Path.Combine(dir, "pipe"), "%F %a"));
        Assert.Equal("1234:5678 400", Stat(Path.Combine(dir, "owned"), "%u:%g %a"));
        Assert.Equal(new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc), File.GetLastWriteTimeUtc(Path.Combine(dir, "owned")));
        Assert.Equal("hello", Run("getfattr", "--only-values", "-n", "user.note", Path.Combine(dir, "owned")));
        Assert.Equal("755", Stat(Path.Combine(dir, "bin", "tool"), "%a"));
    }

    [PrivilegedFact]
    public async Task WhiteoutsAndOpaqueDirectoriesHideLowerFilesInAnOverlay()
    {
        using var tmp = new TempDir();
        var lower = OciTestImage.Tar(w =>
        {
            OciTestImage.File(w, "gone.txt", "lower");
            OciTestImage.File(w, "kept.txt", "lower");
            OciTestImage.Dir(w, "opq/");
            OciTestImage.File(w, "opq/old.txt", "lower");
        });
        var upper = OciTestImage.Tar(w =>
        {
            OciTestImage.File(w, ".wh.gone.txt", "");
            OciTestImage.Dir(w, "opq/");
            OciTestImage.File(w, "opq/.wh..wh..opq", "");
            OciTestImage.File(w, "opq/new.txt", "upper");
        });
        var (_, snapshotter, image) = await ImportAsync(tmp, "localhost/wh:1", lower, upper);

        var dirs = await snapshotter.EnsureLayersAsync(image, CancellationToken.None);

        Assert.Equal("character special file 0:0", Stat(Path.Combine(dirs[0], "gone.txt"), "%F %Hr:%Lr"));
        Assert.Equal("y", Run("getfattr", "--only-values", "-n", "trusted.overlay.opaque", Path.Combine(dirs[0], "opq")));
        var mount = snapshotter.PrepareContainer("c1", dirs);
        var merged = Directory.CreateDirectory(tmp.Combine("merged")).FullName;
        Run("mount", "-t", "overlay", "overlay", "-o", mount.Options, merged);
        try
        {
            Assert.False(File.Exists(Path.Combine(merged, "gone.txt")));
            Assert.Equal("lower", await File.ReadAllTextAsync(Path.Combine(merged, "kept.txt")));
            Assert.Equal(["new.txt"], Directory.GetFiles(Path.Combine(merged, "opq")).Select(Path.GetFileName));
            await File.WriteAllTextAsync(Path.Combine(merged, "written.txt"), "c");
            File.Delete(Path.Combine(merged, "kept.txt"));
        }
        finally
        {
            Run("umount", merged);
        }
        Assert.True(File.Exists(Path.Combine(mount.UpperDir, "written.txt")));
        snapshotter.RemoveContainer("c1"); // holds a root-made whiteout for kept.txt
        Assert.False(Directory.Exists(Path.GetDirectoryName(mount.UpperDir)));
        snapshotter.RemoveContainer("c1");
    }

    public static TheoryData<string, string> Escapes() => new()
    {
        { "dotdot", "../../etc/passwd" },
        { "absolute", "/etc/passwd" },
        { "symlink", "evil/passwd" },
        { "symlink-relative", "up/outside.txt" },
        { "hardlink", "hard" },
    };

    [PrivilegedTheory]
    [MemberData(nameof(Escapes))]
    public async Task PathEscapesAreRejectedAndWriteNothing(string kind, string reported)
    {
        using var tmp = new TempDir();
        var outside = Directory.CreateDirectory(tmp.Combine("outside")).FullName;
        await File.WriteAllTextAsync(Path.Combine(outside, "passwd"), "original");
        var root = tmp.Combine("root");
        Directory.CreateDirectory(root);
        // depth from <root>/snapshots/tmp/<x>/ to tmp: 4 levels
        var layer = OciTestImage.Tar(w =>
        {
            switch (kind)
            {
                case "dotdot":
                    OciTestImage.File(w, "../../../../outside/passwd", "pwned");
                    break;
                case "absolute":
                    OciTestImage.File(w, outside + "/passwd", "pwned");
                    break;
                case "symlink":
                    OciTestImage.Link(w, TarEntryType.SymbolicLink, "evil", outside);
                    OciTestImage.File(w, "evil/passwd", "pwned");
                    break;
                case "symlink-relative":
                    OciTestImage.Link(w, TarEntryType.SymbolicLink, "up", "../../../../outside");
                    OciTestImage.File(w, "up/outside.txt", "pwned");
                    break;
                case "hardlink":
                    OciTestImage.Link(w, TarEntryType.HardLink, "hard", "../../../../outside/passwd");
                    break;
            }
        });
        var (store, snapshotter, image) = await ImportAsync(tmp, "localhost/x:1", layer);

        var e = await Assert.ThrowsAsync<ImageException>(() => snapshotter.EnsureLayersAsync(image, CancellationToken.None));

        Assert.Equal(ImageErrorKind.PathEscape, e.Kind);
        Assert.StartsWith($"image localhost/x:1 layer {image.LayerDigests[0]}: path escapes rootfs: ", e.Message);
        Assert.Contains(kind == "absolute" ? outside + "/passwd" : kind == "dotdot" ? "../../../../outside/passwd" : reported.Split('/')[0], e.Message);
        Assert.Equal(["passwd"], Directory.GetFiles(outside).Select(Path.GetFileName));
        Assert.Equal("original", await File.ReadAllTextAsync(Path.Combine(outside, "passwd")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(store.Root, "snapshots", "layers")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(store.Root, "snapshots", "tmp")));
    }

    [PrivilegedFact]
    public async Task LayerWithWrongDiffIdIsCorrupt()
    {
        using var tmp = new TempDir();
        var (store, snapshotter, image) = await ImportAsync(tmp, "localhost/d:1", OciTestImage.Tar(w => OciTestImage.File(w, "a", "a")));
        var wrong = image with { DiffIds = [OciTestImage.Digest([1, 2, 3])] };

        var e = await Assert.ThrowsAsync<ImageException>(() => snapshotter.EnsureLayersAsync(wrong, CancellationToken.None));

        Assert.Equal(ImageErrorKind.Corrupt, e.Kind);
        Assert.Contains($"expected {wrong.DiffIds[0]}, got {image.DiffIds[0]}", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(store.Root, "snapshots", "layers")));
    }

    private static string Stat(string path, string format) => Run("stat", "-c", format, path);

    internal static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {error}");
        return output.TrimEnd('\n');
    }
}
