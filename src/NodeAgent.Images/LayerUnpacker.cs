using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using NodeAgent.Linux;

namespace NodeAgent.Images;

/// <summary>
/// Unpacks one layer tar into a directory for use as an overlay lower layer: files, directories, links, devices,
/// modes, owners, extended attributes; <c>.wh.</c> whiteouts become overlay whiteouts and <c>.wh..wh..opq</c> marks
/// a directory opaque. Nothing is ever written outside the target: absolute names, <c>..</c>, and paths through
/// symlinks or hard links that lead out of the layer are refused. The uncompressed stream is hashed and must equal
/// the layer's diff ID.
/// </summary>
internal static class LayerUnpacker
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";

    public static async Task UnpackAsync(string blobPath, string target, string expectedDiffId, string what, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(blobPath);
        var magic = new byte[4];
        var got = await file.ReadAsync(magic, cancellationToken);
        file.Position = 0;
        Stream decompressed;
        if (got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        {
            decompressed = new GZipStream(file, CompressionMode.Decompress);
        }
        else if (got == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
        {
            throw new ImageException(ImageErrorKind.Unsupported, $"{what}: zstd-compressed layers are not supported");
        }
        else
        {
            decompressed = file;
        }

        using var hashing = new HashingStream(decompressed);
        try
        {
            using (var tar = new TarReader(hashing, leaveOpen: true))
            {
                TarEntry? entry;
                var hardLinks = new List<(string Link, string Target)>();
                while ((entry = await tar.GetNextEntryAsync(copyData: false, cancellationToken)) is not null)
                {
                    await ExtractAsync(entry, target, what, hardLinks, cancellationToken);
                }
            }

            await hashing.DrainAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new ImageException(ImageErrorKind.Corrupt, $"{what}: corrupt or truncated layer: {ex.Message}", ex);
        }
        catch (LinuxException ex)
        {
            throw new ImageException(ImageErrorKind.Io, $"{what}: {ex.Message}", ex);
        }
        catch (IOException ex) when (ex is not LinuxException)
        {
            throw new ImageException(ImageErrorKind.Io, $"{what}: {ex.Message}", ex);
        }

        var diffId = "sha256:" + Convert.ToHexStringLower(hashing.Hash());
        if (diffId != expectedDiffId)
        {
            throw new ImageException(ImageErrorKind.Corrupt, $"{what}: uncompressed content does not match its diff ID: expected {expectedDiffId}, got {diffId}");
        }
    }

    private static async Task ExtractAsync(TarEntry entry, string root, string what, List<(string, string)> hardLinks, CancellationToken cancellationToken)
    {
        var relative = Clean(entry.Name, what);
        if (relative.Length == 0)
        {
            return; // the layer root itself
        }

        var name = Path.GetFileName(relative);
        var parentRelative = Path.GetDirectoryName(relative) ?? string.Empty;
        var parent = ResolveInside(root, parentRelative, what, entry.Name);
        Directory.CreateDirectory(parent);

        if (name == OpaqueMarker)
        {
            FileSystemOps.MakeOpaque(parent);
            return;
        }

        if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
        {
            var hidden = Path.Combine(parent, name[WhiteoutPrefix.Length..]);
            RemoveExisting(hidden);
            FileSystemOps.MakeWhiteout(hidden);
            return;
        }

        var path = Path.Combine(parent, name);
        var mode = (UnixFileMode)((int)entry.Mode & 0xfff);
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                if (!IsDirectoryNoFollow(path))
                {
                    RemoveExisting(path);
                    Directory.CreateDirectory(path);
                }

                File.SetUnixFileMode(path, mode);
                break;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                RemoveExisting(path);
                await using (var output = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode, BufferSize = 1 << 16 }))
                {
                    if (entry.DataStream is not null)
                    {
                        await entry.DataStream.CopyToAsync(output, cancellationToken);
                    }
                }

                File.SetUnixFileMode(path, mode);
                break;
            case TarEntryType.SymbolicLink:
                RemoveExisting(path);
                File.CreateSymbolicLink(path, entry.LinkName);
                break;
            case TarEntryType.HardLink:
            {
                var targetRelative = Clean(entry.LinkName, what);
                var targetPath = Path.Combine(ResolveInside(root, Path.GetDirectoryName(targetRelative) ?? string.Empty, what, entry.LinkName), Path.GetFileName(targetRelative));
                if (!Path.Exists(targetPath) && !IsSymlink(targetPath))
                {
                    throw new ImageException(ImageErrorKind.Corrupt, $"{what}: hard link {entry.Name} points at {entry.LinkName}, which the layer does not contain");
                }

                RemoveExisting(path);
                FileSystemOps.HardLink(targetPath, path);
                hardLinks.Add((path, targetPath));
                return;
            }

            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice:
                RemoveExisting(path);
                ProcessControl.MakeDevice(path, entry.EntryType == TarEntryType.CharacterDevice, (uint)mode,
                    (uint)((PosixTarEntry)entry).DeviceMajor, (uint)((PosixTarEntry)entry).DeviceMinor);
                break;
            case TarEntryType.Fifo:
                RemoveExisting(path);
                ProcessControl.MakeFifo(path, (uint)mode);
                break;
            default:
                return; // PAX headers and other metadata entries carry nothing to write
        }

        FileSystemOps.Lchown(path, (uint)entry.Uid, (uint)entry.Gid);
        if (entry is PaxTarEntry pax)
        {
            foreach (var (key, value) in pax.ExtendedAttributes)
            {
                if (key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal))
                {
                    FileSystemOps.SetXattr(path, key["SCHILY.xattr.".Length..], System.Text.Encoding.Latin1.GetBytes(value));
                }
            }
        }

        if (entry.EntryType != TarEntryType.SymbolicLink)
        {
            // Ownership changes clear setuid bits: put the mode back.
            File.SetUnixFileMode(path, mode);

            File.SetLastWriteTimeUtc(path, entry.ModificationTime.UtcDateTime);
        }
    }

    /// <summary>Normalises a tar name to a relative path; refuses absolute names and <c>..</c>.</summary>
    private static string Clean(string name, string what)
    {
        var trimmed = name;
        while (trimmed.StartsWith("./", StringComparison.Ordinal))
        {
            trimmed = trimmed[2..];
        }

        if (trimmed.StartsWith('/'))
        {
            throw Escape(what, name, "absolute path");
        }

        var parts = trimmed.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToList();
        if (parts.Contains(".."))
        {
            throw Escape(what, name, "parent directory reference");
        }

        return string.Join('/', parts);
    }

    /// <summary>
    /// The real directory of <paramref name="relative"/> inside <paramref name="root"/>. Symlinks met on the way are
    /// followed only while they stay inside the layer; an absolute or climbing link is an escape.
    /// </summary>
    private static string ResolveInside(string root, string relative, string what, string entryName)
    {
        var current = new List<string>();
        var pending = new Stack<string>(relative.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        var hops = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part is "." or "")
            {
                continue;
            }

            if (part == "..")
            {
                if (current.Count == 0)
                {
                    throw Escape(what, entryName, "a symbolic link on its path climbs above the layer root");
                }

                current.RemoveAt(current.Count - 1);
                continue;
            }

            var path = Path.Combine(root, Path.Combine([.. current, part]));
            if (IsSymlink(path))
            {
                var link = new FileInfo(path).LinkTarget!;
                if (link.StartsWith('/'))
                {
                    throw Escape(what, entryName, $"its path goes through the symbolic link {string.Join('/', [.. current, part])} -> {link}");
                }

                if (++hops > 40)
                {
                    throw Escape(what, entryName, "too many symbolic links");
                }

                foreach (var p in link.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
                {
                    pending.Push(p);
                }

                continue;
            }

            current.Add(part);
        }

        return current.Count == 0 ? root : Path.Combine(root, Path.Combine([.. current]));
    }

    private static ImageException Escape(string what, string name, string why) =>
        new(ImageErrorKind.PathEscape, $"{what}: path escapes rootfs: {name} ({why})");

    private static bool IsSymlink(string path)
    {
        try
        {
            return (File.GetAttributes(path) & FileAttributes.ReparsePoint) != 0;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    private static bool IsDirectoryNoFollow(string path) => Directory.Exists(path) && !IsSymlink(path);

    private static void RemoveExisting(string path)
    {
        if (IsSymlink(path) || File.Exists(path))
        {
            File.Delete(path);
        }
        else if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        else if (Path.Exists(path))
        {
            File.Delete(path);
        }
    }

    /// <summary>Passes data through while hashing it, so the diff ID is checked without a second read.</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            _hash.AppendData(buffer[..n]);
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            _hash.AppendData(buffer.Span[..n]);
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public async Task DrainAsync(CancellationToken cancellationToken)
        {
            var buffer = new byte[1 << 16];
            while (await ReadAsync(buffer, cancellationToken) > 0)
            {
            }
        }

        public byte[] Hash() => _hash.GetHashAndReset();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
