namespace NodeAgent.Linux;

/// <summary>
/// Resolves a path inside a root filesystem following symlinks as if the root were "/", so that a symlink in an
/// image can never make a mount land outside the container's root.
/// </summary>
public static class RootfsPath
{
    public static string Resolve(string root, string unsafePath)
    {
        var parts = new List<string>();
        var pending = new Stack<string>(Split(unsafePath).Reverse());
        var hops = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == "." || part.Length == 0)
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            var current = Path.Combine(root, Path.Combine([.. parts, part]));
            var info = new FileInfo(current);
            if (info.Exists || Directory.Exists(current))
            {
                var target = info.LinkTarget ?? new DirectoryInfo(current).LinkTarget;
                if (target is not null)
                {
                    if (++hops > 255)
                    {
                        throw new IOException($"resolve {unsafePath} in {root}: too many levels of symbolic links");
                    }

                    if (target.StartsWith('/'))
                    {
                        parts.Clear();
                    }

                    foreach (var p in Split(target).Reverse())
                    {
                        pending.Push(p);
                    }

                    continue;
                }
            }

            parts.Add(part);
        }

        return parts.Count == 0 ? root : Path.Combine(root, Path.Combine([.. parts]));
    }

    private static IEnumerable<string> Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
