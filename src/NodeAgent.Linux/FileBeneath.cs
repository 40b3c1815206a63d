namespace NodeAgent.Linux;

/// <summary>
/// Reads a small regular file beneath a directory without ever leaving it: the path is resolved by
/// <see cref="PathBeneath.Open"/> (openat2 <c>RESOLVE_BENEATH</c>: a symlink or <c>..</c> out of the directory fails
/// with EXDEV), and the object that resolution found is reopened for reading through its descriptor, so a rename in
/// between cannot substitute another file.
/// </summary>
public static class FileBeneath
{
    /// <exception cref="ArgumentException"><paramref name="relative"/> is absolute, has a <c>..</c> or a NUL.</exception>
    /// <exception cref="LinuxException">Missing, outside the directory, or unreadable.</exception>
    /// <exception cref="InvalidDataException">Not a regular file, or larger than <paramref name="maxBytes"/>.</exception>
    public static byte[] ReadAll(string root, string relative, int maxBytes)
    {
        using var path = PathBeneath.Open(root, relative);
        var what = Path.Combine(root, relative);
        if (path.Kind != FileKind.Regular)
        {
            throw new InvalidDataException($"{what}: not a regular file ({path.Kind})");
        }

        using var file = new FileStream($"/proc/self/fd/{path.Fd}", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        var buffer = new byte[Math.Min(maxBytes + 1L, Math.Max(file.Length + 1, 1))];
        var read = 0;
        int n;
        while (read < buffer.Length && (n = file.Read(buffer, read, buffer.Length - read)) > 0)
        {
            read += n;
        }

        return read > maxBytes
            ? throw new InvalidDataException($"{what}: larger than {maxBytes} bytes")
            : buffer.AsSpan(0, read).ToArray();
    }
}
