using System.Globalization;
using System.Security.Cryptography;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Volumes;

/// <summary>
/// kubelet's atomic writer (<c>pkg/volume/util/atomic_writer.go</c>): a volume's files live in a timestamped
/// directory (<c>..2026_12_02_01_50_51.123456789</c>), <c>..data</c> is a symbolic link to it, and each user-visible
/// top-level name is a link through <c>..data</c>. A new payload is written to a new timestamped directory, then
/// <c>..data</c> is replaced by rename(2) — readers see the old set or the new one, never a mix — then links that
/// the new payload no longer has are removed, and the old directory last.
/// <para>Every path is checked before anything is written: relative, no <c>..</c> component, not starting with
/// <c>..</c> (reserved for the writer's own names), no NUL, at most 4096 bytes and 255 per component. Files are
/// created exclusively (O_EXCL: an existing name, link or not, is never followed) in directories the writer has just
/// created inside the new timestamped directory, so nothing is written outside the volume's directory.</para>
/// </summary>
public static class AtomicWriter
{
    public const string DataDirName = "..data";
    private const string NewDataDirName = "..data_tmp";
    private const int MaxPathLength = 4096;
    private const int MaxComponentLength = 255;
    private const int GroupRead = 0x120; // 0440

    /// <summary>Checks one payload path as kubelet's <c>validatePath</c> does.</summary>
    /// <returns>Null when valid, else why not.</returns>
    public static string? Invalid(string path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "must not be empty";
        }

        if (System.Text.Encoding.UTF8.GetByteCount(path) > MaxPathLength)
        {
            return $"must be less than or equal to {MaxPathLength} characters";
        }

        if (path.Contains('\0'))
        {
            return "must not contain NUL";
        }

        if (path.StartsWith('/'))
        {
            return "must be relative path";
        }

        if (path.StartsWith("..", StringComparison.Ordinal))
        {
            return "must not start with '..'";
        }

        foreach (var part in path.Split('/'))
        {
            if (part == "..")
            {
                return "must not contain '..'";
            }

            if (System.Text.Encoding.UTF8.GetByteCount(part) > MaxComponentLength)
            {
                return $"must not have a component longer than {MaxComponentLength} characters";
            }
        }

        return null;
    }

    /// <summary>
    /// Makes <paramref name="directory"/> hold exactly <paramref name="payload"/> (path relative to the volume →
    /// content and mode). Nothing changes when the payload equals what is there.
    /// </summary>
    /// <returns>True when the content changed.</returns>
    /// <exception cref="VolumeException">A path is invalid (nothing is written), or writing failed (the old content stays).</exception>
    /// <param name="fsGroup">The pod's fsGroup: files and directories get that group, files g+r, directories
    /// setgid and g+rx (kubelet's SetVolumeOwnership for a read-only volume).</param>
    public static bool Write(string directory, IReadOnlyDictionary<string, FileProjection> payload, string volume, IVolumeHost host, uint? fsGroup = null)
    {
        var clean = new SortedDictionary<string, FileProjection>(StringComparer.Ordinal);
        foreach (var (path, file) in payload)
        {
            if (Invalid(path) is { } why)
            {
                throw new VolumeException($"invalid path \"{path}\" for volume {volume}: {why}");
            }

            // "a//b", "./a", "a/" name a/b and a: kubelet cleans paths the same way.
            var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
            if (parts.Length == 0)
            {
                throw new VolumeException($"invalid path \"{path}\" for volume {volume}: names the volume itself");
            }

            var mode = file.Mode & 0x1FF;
            clean[string.Join('/', parts)] = file with { Mode = fsGroup is null ? mode : mode | GroupRead };
        }

        // One path may not be both a file and a directory ("a" and "a/b").
        foreach (var path in clean.Keys)
        {
            var slash = path.IndexOf('/');
            for (var i = slash; i >= 0; i = path.IndexOf('/', i + 1))
            {
                if (clean.ContainsKey(path[..i]))
                {
                    throw new VolumeException($"invalid path \"{path}\" for volume {volume}: \"{path[..i]}\" is also a file");
                }
            }
        }

        Directory.CreateDirectory(directory);
        var dataLink = Path.Combine(directory, DataDirName);
        var oldTarget = new FileInfo(dataLink).LinkTarget;
        string? oldDir = null;
        if (oldTarget is not null && Path.GetFileName(oldTarget) == oldTarget && oldTarget.StartsWith("..", StringComparison.Ordinal) && oldTarget != DataDirName)
        {
            oldDir = Path.Combine(directory, oldTarget);
        }

        var oldVisible = oldDir is null ? [] : VisibleNames(directory);
        if (oldDir is not null && Same(oldDir, clean))
        {
            // The content is what is there; only make sure every name is linked (a crash between the swap and the links).
            LinkVisible(directory, clean.Keys);
            return false;
        }

        var newDir = NewTimestampedDirectory(directory, volume);
        try
        {
            foreach (var (path, file) in clean)
            {
                WriteFile(newDir, path, file, volume);
            }

            if (fsGroup is { } gid)
            {
                SetGroup(newDir, gid, host);
            }

            // ..data_tmp → new directory, then rename over ..data: the swap readers see at once.
            var tmpLink = Path.Combine(directory, NewDataDirName);
            File.Delete(tmpLink);
            File.CreateSymbolicLink(tmpLink, Path.GetFileName(newDir));
            host.Rename(tmpLink, dataLink);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(newDir);
            throw new VolumeException($"volume {volume}: cannot write {directory}: {e.Message}", e);
        }

        var visible = clean.Keys.Select(k => k.Split('/')[0]).ToHashSet(StringComparer.Ordinal);
        LinkVisible(directory, clean.Keys);
        foreach (var name in oldVisible.Where(n => !visible.Contains(n)))
        {
            File.Delete(Path.Combine(directory, name));
        }

        if (oldDir is not null)
        {
            TryDelete(oldDir);
        }

        // Timestamped directories a crash left behind (not the current one).
        foreach (var stale in Directory.EnumerateDirectories(directory, "..*").Where(d => d != newDir && new DirectoryInfo(d).LinkTarget is null))
        {
            TryDelete(stale);
        }

        return true;
    }

    /// <summary>The user-visible names: links through <c>..data</c>.</summary>
    private static List<string> VisibleNames(string directory) =>
        new DirectoryInfo(directory).EnumerateFileSystemInfos()
            .Where(i => !i.Name.StartsWith("..", StringComparison.Ordinal) && i.LinkTarget is { } t && t.StartsWith(DataDirName + "/", StringComparison.Ordinal))
            .Select(i => i.Name)
            .ToList();

    private static void LinkVisible(string directory, IEnumerable<string> paths)
    {
        foreach (var top in paths.Select(p => p.Split('/')[0]).Distinct(StringComparer.Ordinal))
        {
            var link = Path.Combine(directory, top);
            var info = new FileInfo(link);
            var target = DataDirName + "/" + top;
            if (info.LinkTarget == target)
            {
                continue;
            }

            if (info.Exists || info.LinkTarget is not null || Directory.Exists(link))
            {
                // A name the writer did not make (kubelet refuses to replace it too).
                throw new VolumeException($"volume {volume(directory)}: {link} exists and is not the writer's link to {target}");
            }

            File.CreateSymbolicLink(link, target);
        }

        static string volume(string d) => Path.GetFileName(d);
    }

    private static bool Same(string dir, SortedDictionary<string, FileProjection> payload)
    {
        try
        {
            var files = Directory.EnumerateFiles(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                .Select(f => Path.GetRelativePath(dir, f))
                .ToHashSet(StringComparer.Ordinal);
            if (files.Count != payload.Count)
            {
                return false;
            }

            foreach (var (path, file) in payload)
            {
                var full = Path.Combine(dir, path);
                if (!files.Contains(path) || new FileInfo(full).LinkTarget is not null
                    || ((int)File.GetUnixFileMode(full) & 0x1FF) != file.Mode
                    || !File.ReadAllBytes(full).AsSpan().SequenceEqual(file.Data))
                {
                    return false;
                }
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string NewTimestampedDirectory(string directory, string volume)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var name = DateTime.UtcNow.ToString("..yyyy_MM_dd_HH_mm_ss.", CultureInfo.InvariantCulture)
                + RandomNumberGenerator.GetInt32(1_000_000_000).ToString(CultureInfo.InvariantCulture);
            var path = Path.Combine(directory, name);
            if (Path.Exists(path) || new FileInfo(path).LinkTarget is not null)
            {
                continue;
            }

            var info = Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            if (info.LinkTarget is null)
            {
                return path;
            }
        }

        throw new VolumeException($"volume {volume}: cannot create a new data directory in {directory}");
    }

    private static void WriteFile(string root, string path, FileProjection file, string volume)
    {
        var parts = path.Split('/');
        var dir = root;
        foreach (var part in parts[..^1])
        {
            dir = Path.Combine(dir, part);
            var info = new DirectoryInfo(dir);
            if (info.LinkTarget is not null)
            {
                throw new VolumeException($"volume {volume}: {dir} is a symbolic link");
            }

            if (!info.Exists)
            {
                Directory.CreateDirectory(dir);
                if (new DirectoryInfo(dir).LinkTarget is not null)
                {
                    throw new VolumeException($"volume {volume}: {dir} is a symbolic link");
                }
            }
        }

        var full = Path.Combine(dir, parts[^1]);
        // CreateNew is O_CREAT|O_EXCL: fails on any existing name, a symbolic link included, never following it.
        using (var stream = new FileStream(full, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = (UnixFileMode)file.Mode,
        }))
        {
            stream.Write(file.Data);
        }

        // The umask may have removed bits the pod asked for.
        File.SetUnixFileMode(full, (UnixFileMode)file.Mode);
    }

    /// <summary>Group <paramref name="gid"/> for everything under <paramref name="root"/> (the writer's own new
    /// directory: no links in it), directories setgid and g+rx.</summary>
    private static void SetGroup(string root, uint gid, IVolumeHost host)
    {
        foreach (var dir in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).Prepend(root))
        {
            host.SetGroup(dir, gid);
            File.SetUnixFileMode(dir, File.GetUnixFileMode(dir) | UnixFileMode.SetGroup | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        }

        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            host.SetGroup(file, gid);
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next write's clean-up.
        }
    }
}
