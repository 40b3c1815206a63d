using System.Security.Cryptography;

namespace NodeAgent.Images;

/// <summary>
/// Content-addressed blobs under <c>&lt;root&gt;/content/blobs/sha256/</c>. A blob is streamed into a temporary file
/// while its sha256 is computed and only renamed into place when digest and size match.
/// </summary>
public sealed class ContentStore
{
    private readonly string _blobs;
    private readonly string _ingest;

    public ContentStore(string root)
    {
        _blobs = System.IO.Path.Combine(root, "content", "blobs", "sha256");
        _ingest = System.IO.Path.Combine(root, "content", "ingest");
        Directory.CreateDirectory(_blobs);
        Directory.CreateDirectory(_ingest);
    }

    public string PathOf(string digest) => System.IO.Path.Combine(_blobs, Hex(digest));

    public bool Exists(string digest) => File.Exists(PathOf(digest));

    /// <summary>Writes a blob; returns its digest. Throws Corrupt when it does not match what was expected.</summary>
    public async Task<string> IngestAsync(Stream source, string? expectedDigest, long? expectedSize, string what, CancellationToken cancellationToken)
    {
        if (expectedDigest is not null && Exists(expectedDigest))
        {
            return expectedDigest;
        }

        var tmp = System.IO.Path.Combine(_ingest, Guid.NewGuid().ToString("N"));
        try
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = 0;
            await using (var output = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                var buffer = new byte[1 << 16];
                int n;
                while ((n = await source.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    sha.AppendData(buffer, 0, n);
                    await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                    size += n;
                }
            }

            var digest = "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset());
            if (expectedDigest is not null && digest != expectedDigest)
            {
                throw new ImageException(ImageErrorKind.Corrupt, $"{what}: content does not match its digest: expected {expectedDigest}, got {digest}");
            }

            if (expectedSize is { } s && s != size)
            {
                throw new ImageException(ImageErrorKind.Corrupt, $"{what}: size {size} does not match the expected {s} bytes");
            }

            File.Move(tmp, PathOf(digest), overwrite: true);
            return digest;
        }
        catch (IOException ex)
        {
            throw new ImageException(ImageErrorKind.Io, $"{what}: writing blob: {ex.Message}", ex);
        }
        finally
        {
            if (File.Exists(tmp))
            {
                File.Delete(tmp);
            }
        }
    }

    public void Delete(string digest)
    {
        var path = PathOf(digest);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    public IEnumerable<string> List() =>
        Directory.EnumerateFiles(_blobs).Select(f => "sha256:" + System.IO.Path.GetFileName(f));

    public static string Hex(string digest)
    {
        if (!digest.StartsWith("sha256:", StringComparison.Ordinal) || digest.Length != 71 || !digest[7..].All(char.IsAsciiHexDigitLower))
        {
            throw new ImageException(ImageErrorKind.Corrupt, $"invalid digest \"{digest}\"");
        }

        return digest[7..];
    }
}
