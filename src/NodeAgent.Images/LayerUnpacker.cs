using NodeAgent.Linux;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace NodeAgent.Images;

/// <summary>
/// Unpacks one layer tar (plain, gzip or zstd) into a directory with full tar semantics (owners, modes, mtimes,
/// devices, fifos, hard and symbolic links, PAX xattrs) and overlayfs whiteouts, verifying the diff ID.
/// Never writes outside the target: <c>..</c>, absolute names, writes through symlinks that leave the
/// target and hardlinks to outside are rejected with <see cref="ImageErrorKind.PathEscape"/>. Every path
/// is resolved component by component without following symlinks that leave the tree, and the final
/// component is always created fresh (O_EXCL), so no symlink is ever followed on write.
/// </summary>
public sealed class LayerUnpacker
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";
    private const int MaxSymlinks = 40;
    private readonly string _target;
    private readonly string _what;
    private readonly List<(string Path, DateTime Mtime)> _dirTimes = [];

    /// <param name="target">An existing empty directory to unpack into.</param>
    /// <param name="what">Names the image and layer in errors, e.g. <c>image localhost/x:1 layer sha256:ab…</c>.</param>
    public LayerUnpacker(string target, string what)
    {
        _target = System.IO.Path.GetFullPath(target);
        _what = what;
    }

    /// <summary>Unpacks <paramref name="blob"/> (gzip and zstd detected by their magic) and checks the uncompressed digest.</summary>
    public async Task UnpackAsync(Stream blob, string expectedDiffId, CancellationToken cancellationToken)
    {
        var magic = new byte[4];
        var n = await blob.ReadAtLeastAsync(magic, 4, throwOnEndOfStream: false, cancellationToken);
        blob.Seek(0, SeekOrigin.Begin);
        Stream plain = n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd
            ? new ZstdSharp.DecompressionStream(blob, leaveOpen: true)
            : n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new GZipStream(blob, CompressionMode.Decompress, leaveOpen: true) : blob;
        using var hashing = new HashingReadStream(plain);
        try
        {
            await using (var reader = new TarReader(hashing, leaveOpen: true))
            {
                while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
                {
                    await ApplyAsync(entry, cancellationToken);
                }
            }
            await hashing.CopyToAsync(Stream.Null, cancellationToken);
        }
        catch (LinuxException e)
        {
            throw new ImageException(ImageErrorKind.Io, $"{_what}: {e.Message}", e);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or FormatException)
        {
            throw new ImageException(ImageErrorKind.Corrupt, $"{_what}: truncated or corrupt layer: {e.Message}", e);
        }
        var actual = hashing.Digest();
        if (actual != expectedDiffId)
        {
            throw new ImageException(ImageErrorKind.Corrupt, $"{_what}: diff ID mismatch: expected {expectedDiffId}, got {actual}");
        }
        foreach (var (path, mtime) in Enumerable.Reverse(_dirTimes))
        {
            SetTimes(path, mtime);
        }
    }

    private async Task ApplyAsync(TarEntry entry, CancellationToken cancellationToken)
    {
        var parts = Split(entry.Name);
        if (parts.Count == 0)
        {
            return; // "./": the root itself
        }
        var name = parts[^1];
        var parent = ResolveDirectory(parts.Take(parts.Count - 1).ToList(), entry.Name, create: true);
        if (name == OpaqueMarker)
        {
            SetXattr(parent, "trusted.overlay.opaque", "y"u8.ToArray());
            return;
        }
        if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
        {
            var hidden = System.IO.Path.Combine(parent, name[WhiteoutPrefix.Length..]);
            RemoveExisting(hidden, keepDirectory: false);
            FileSystemOps.MakeWhiteout(hidden);
            return;
        }
        var path = System.IO.Path.Combine(parent, name);
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                RemoveExisting(path, keepDirectory: true);
                Directory.CreateDirectory(path);
                break;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                RemoveExisting(path, keepDirectory: false);
                await using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                {
                    if (entry.DataStream is { } data)
                    {
                        await data.CopyToAsync(output, cancellationToken);
                    }
                }
                break;
            case TarEntryType.SymbolicLink:
                RemoveExisting(path, keepDirectory: false);
                File.CreateSymbolicLink(path, entry.LinkName);
                break;
            case TarEntryType.HardLink:
                var linkParts = Split(entry.LinkName, $"{entry.Name} (hardlink to {entry.LinkName})");
                if (linkParts.Count == 0)
                {
                    throw Escape($"hardlink target {entry.LinkName} of {entry.Name}");
                }
                var source = System.IO.Path.Combine(ResolveDirectory(linkParts.Take(linkParts.Count - 1).ToList(), $"{entry.Name} (hardlink to {entry.LinkName})", create: false), linkParts[^1]);
                RemoveExisting(path, keepDirectory: false);
                FileSystemOps.HardLink(source, path);
                return; // a hard link shares the inode's metadata
            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                RemoveExisting(path, keepDirectory: false);
                var type = entry.EntryType switch
                {
                    TarEntryType.CharacterDevice => FileSystemOps.S_IFCHR,
                    TarEntryType.BlockDevice => FileSystemOps.S_IFBLK,
                    _ => FileSystemOps.S_IFIFO,
                };
                var (major, minor) = entry is PosixTarEntry p ? ((uint)p.DeviceMajor, (uint)p.DeviceMinor) : (0u, 0u);
                FileSystemOps.MakeNode(path, type | (uint)entry.Mode, major, minor);
                break;
            default:
                return; // global PAX headers and the like carry no file
        }
        FileSystemOps.Lchown(path, (uint)entry.Uid, (uint)entry.Gid);
        if (entry.EntryType != TarEntryType.SymbolicLink)
        {
            FileSystemOps.Chmod(path, (uint)entry.Mode & 0xfff);
        }
        if (entry is PaxTarEntry pax)
        {
            foreach (var (key, value) in pax.ExtendedAttributes)
            {
                if (key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal))
                {
                    SetXattr(path, key["SCHILY.xattr.".Length..], Encoding.UTF8.GetBytes(value));
                }
            }
        }
        if (entry.EntryType == TarEntryType.Directory)
        {
            _dirTimes.Add((path, entry.ModificationTime.UtcDateTime));
        }
        else
        {
            SetTimes(path, entry.ModificationTime.UtcDateTime);
        }
    }

    /// <summary>Splits a member name into components; rejects absolute names and <c>..</c>.</summary>
    private List<string> Split(string name, string? display = null)
    {
        if (name.StartsWith('/'))
        {
            throw Escape(display ?? name);
        }
        var parts = new List<string>();
        foreach (var part in name.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "..")
            {
                throw Escape(display ?? name);
            }
            if (part != ".")
            {
                parts.Add(part);
            }
        }
        return parts;
    }

    /// <summary>Resolves a directory inside the target, following only symlinks that stay inside it
    /// (relative ones, interpreted lexically); creates missing directories when asked.</summary>
    private string ResolveDirectory(List<string> components, string memberName, bool create)
    {
        var pending = new Queue<string>(components);
        var resolved = new List<string>();
        var links = 0;
        while (pending.Count > 0)
        {
            var c = pending.Dequeue();
            if (c == "..")
            {
                if (resolved.Count == 0)
                {
                    throw Escape(memberName);
                }
                resolved.RemoveAt(resolved.Count - 1);
                continue;
            }
            var path = System.IO.Path.Combine([_target, .. resolved, c]);
            var linkTarget = new FileInfo(path).LinkTarget;
            if (linkTarget is not null)
            {
                if (++links > MaxSymlinks || linkTarget.StartsWith('/'))
                {
                    throw Escape($"{memberName} (through symlink {string.Join('/', [.. resolved, c])} -> {linkTarget})");
                }
                var rest = pending.ToList();
                pending.Clear();
                foreach (var t in linkTarget.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(t => t != ".").Concat(rest))
                {
                    pending.Enqueue(t);
                }
                continue;
            }
            if (!Directory.Exists(path))
            {
                if (File.Exists(path) || !create)
                {
                    throw new ImageException(ImageErrorKind.Corrupt, $"{_what}: {memberName}: {string.Join('/', [.. resolved, c])} is not a directory");
                }
                Directory.CreateDirectory(path);
            }
            resolved.Add(c);
        }
        return System.IO.Path.Combine([_target, .. resolved]);
    }

    private static void RemoveExisting(string path, bool keepDirectory)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null || File.Exists(path))
        {
            File.Delete(path);
        }
        else if (Directory.Exists(path) && !keepDirectory)
        {
            Directory.Delete(path, recursive: true);
        }
    }

    private static void SetXattr(string path, string name, byte[] value) => FileSystemOps.SetXattr(path, name, value);

    private static void SetTimes(string path, DateTime utc) => FileSystemOps.SetTimesNoFollow(path, utc);

    private ImageException Escape(string name) => new(ImageErrorKind.PathEscape, $"{_what}: path escapes rootfs: {name}");
}
