using System.Security.Cryptography;

namespace NodeAgent.Images;

/// <summary>
/// Content-addressed blobs under <c>&lt;root&gt;/content/blobs/sha256/&lt;hex&gt;</c>. A blob is streamed into a temp
/// file while its sha256 is computed and appears under its digest only once verified (atomic rename).
/// </summary>
public sealed class ContentStore
{
    private readonly string _blobDir;
    private readonly string _ingestDir;

    public ContentStore(string root)
    {
        _blobDir = System.IO.Path.Combine(root, "content", "blobs", "sha256");
        _ingestDir = System.IO.Path.Combine(root, "content", "ingest");
        Directory.CreateDirectory(_blobDir);
        Directory.CreateDirectory(_ingestDir);
    }

    public string BlobPath(string digest) => System.IO.Path.Combine(_blobDir, Hex(digest));

    public bool Exists(string digest) => File.Exists(BlobPath(digest));

    public Stream OpenRead(string digest) =>
        new FileStream(BlobPath(digest), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);

    public IEnumerable<string> ListDigests() =>
        Directory.EnumerateFiles(_blobDir).Select(f => "sha256:" + System.IO.Path.GetFileName(f));

    public void Delete(string digest) => File.Delete(BlobPath(digest));

    /// <summary>Writes a blob, verifying the digest (and size when given). Returns the digest and whether the
    /// blob was newly created. When <paramref name="expectedDigest"/> is null the computed digest is used.</summary>
    /// <param name="onRead">Told the size of every chunk read (progress of a download).</param>
    /// <param name="readTimeout">A read from <paramref name="source"/> that yields nothing for this long fails with an
    /// <see cref="IOException"/> (a stalled network stream must not hold the caller forever).</param>
    /// <exception cref="ImageException">Corrupt when the content does not match; nothing is left behind.</exception>
    public async Task<(string Digest, bool Created)> IngestAsync(Stream source, string? expectedDigest, long? expectedSize, string what,
        CancellationToken cancellationToken, Action<int>? onRead = null, TimeSpan? readTimeout = null)
    {
        if (expectedDigest is not null)
        {
            ValidateDigest(expectedDigest);
            if (Exists(expectedDigest))
            {
                return (expectedDigest, false);
            }
        }
        var temp = System.IO.Path.Combine(_ingestDir, Guid.NewGuid().ToString("N"));
        try
        {
            string actual;
            long size = 0;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var buffer = new byte[1 << 16];
                using var idle = readTimeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                int n;
                while ((n = await ReadAsync(source, buffer, idle, readTimeout, cancellationToken)) > 0)
                {
                    onRead?.Invoke(n);
                    hash.AppendData(buffer, 0, n);
                    await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                    size += n;
                }
                actual = "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }
            if (expectedDigest is not null && actual != expectedDigest)
            {
                throw new ImageException(ImageErrorKind.Corrupt, $"{what}: digest mismatch: expected {expectedDigest}, got {actual}");
            }
            if (expectedSize is { } want && want != size)
            {
                throw new ImageException(ImageErrorKind.Corrupt, $"{what} {actual}: size mismatch: expected {want} bytes, got {size}");
            }
            if (Exists(actual))
            {
                File.Delete(temp);
                return (actual, false);
            }
            File.Move(temp, BlobPath(actual), overwrite: true);
            return (actual, true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static async ValueTask<int> ReadAsync(Stream source, byte[] buffer, CancellationTokenSource? idle, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (idle is null)
        {
            return await source.ReadAsync(buffer, cancellationToken);
        }
        idle.CancelAfter(timeout!.Value);
        try
        {
            return await source.ReadAsync(buffer, idle.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"no data received for {timeout.Value.TotalSeconds:0} s");
        }
        finally
        {
            idle.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    public static void ValidateDigest(string digest)
    {
        if (!digest.StartsWith("sha256:", StringComparison.Ordinal) || digest.Length != 71 ||
            !digest.AsSpan(7).ContainsOnlyHexLower())
        {
            throw new ImageException(ImageErrorKind.Unsupported, $"unsupported or malformed digest \"{digest}\" (only sha256 is supported)");
        }
    }

    internal static string Hex(string digest)
    {
        ValidateDigest(digest);
        return digest[7..];
    }
}

internal static class SpanHexExtensions
{
    public static bool ContainsOnlyHexLower(this ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }
        return true;
    }
}
