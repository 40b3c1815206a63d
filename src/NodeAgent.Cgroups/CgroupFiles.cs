namespace NodeAgent.Cgroups;

/// <summary>Reads and writes of cgroup control files with errors that name the cgroup, the file and the value.</summary>
internal static class CgroupFiles
{
    public static void Write(string dir, string file, string value, string cgroup)
    {
        var path = Path.Combine(dir, file);
        try
        {
            File.WriteAllText(path, value);
        }
        catch (IOException ex)
        {
            throw new CgroupException($"cgroup {cgroup}: writing {file} = \"{value}\": {Describe(ex)}", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new CgroupException($"cgroup {cgroup}: writing {file} = \"{value}\": permission denied", ex);
        }
    }

    public static string? Read(string dir, string file)
    {
        try
        {
            return File.ReadAllText(Path.Combine(dir, file)).Trim();
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public static ulong ReadNumber(string dir, string file) =>
        ulong.TryParse(Read(dir, file), out var v) ? v : 0;

    /// <summary>A "key value" line of a flat-keyed file such as memory.stat or memory.events.</summary>
    public static ulong ReadKey(string dir, string file, string key)
    {
        var text = Read(dir, file);
        if (text is null)
        {
            return 0;
        }

        foreach (var line in text.Split('\n'))
        {
            var parts = line.Split(' ', 2);
            if (parts.Length == 2 && parts[0] == key && ulong.TryParse(parts[1], out var v))
            {
                return v;
            }
        }

        return 0;
    }

    public static IReadOnlyList<int> ReadPids(string dir)
    {
        var text = Read(dir, "cgroup.procs");
        return text is null
            ? []
            : text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
    }

    /// <summary>Removes a cgroup directory tree deepest first, waiting a bounded time for exiting processes to leave.</summary>
    public static void RemoveTree(string dir, string cgroup)
    {
        if (!Directory.Exists(dir))
        {
            return;
        }

        var dirs = Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories)
            .OrderByDescending(d => d.Length)
            .Append(dir);
        foreach (var d in dirs)
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    Directory.Delete(d);
                    break;
                }
                catch (IOException) when (attempt < 200 && Directory.Exists(d))
                {
                    // Killed processes take a moment to be reaped and leave the group.
                    Thread.Sleep(5);
                }
                catch (DirectoryNotFoundException)
                {
                    break;
                }
                catch (IOException ex)
                {
                    throw new CgroupException($"cgroup {cgroup}: removing {d}: {Describe(ex)}", ex);
                }
            }
        }
    }

    private static string Describe(IOException ex) => ex.Message;
}
