namespace NodeAgent.Logs;

/// <summary>Finds a container log's rotated files (<c>&lt;path&gt;.&lt;yyyyMMdd-HHmmss&gt;[.nnn]</c>), oldest first.</summary>
public static class CriLogFiles
{
    public static IReadOnlyList<string> Rotated(string path)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        string prefix = Path.GetFileName(full) + ".";
        if (!Directory.Exists(dir))
        {
            return [];
        }

        var files = new List<string>();
        foreach (string file in Directory.EnumerateFiles(dir, prefix + "*"))
        {
            string name = Path.GetFileName(file);
            if (name.Length > prefix.Length && name.StartsWith(prefix, StringComparison.Ordinal) && IsRotationSuffix(name.AsSpan(prefix.Length)))
            {
                files.Add(file);
            }
        }

        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>Rotated files oldest first, then the current file (when it exists).</summary>
    public static IReadOnlyList<string> All(string path)
    {
        var files = new List<string>(Rotated(path));
        if (File.Exists(path))
        {
            files.Add(Path.GetFullPath(path));
        }

        return files;
    }

    private static bool IsRotationSuffix(ReadOnlySpan<char> s)
    {
        // yyyyMMdd-HHmmss, optionally .nnn
        if (s.Length != 15 && s.Length != 19)
        {
            return false;
        }

        for (int i = 0; i < 15; i++)
        {
            if (i == 8 ? s[i] != '-' : !char.IsAsciiDigit(s[i]))
            {
                return false;
            }
        }

        return s.Length == 15 || (s[15] == '.' && char.IsAsciiDigit(s[16]) && char.IsAsciiDigit(s[17]) && char.IsAsciiDigit(s[18]));
    }
}
