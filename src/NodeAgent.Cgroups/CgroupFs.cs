using System.Text;
using NodeAgent.Linux;

namespace NodeAgent.Cgroups;

/// <summary>Reads and writes cgroupfs interface files, turning the kernel's errno into a <see cref="CgroupException"/>.</summary>
internal static class CgroupFs
{
    /// <summary>Writes <paramref name="value"/> to <paramref name="dir"/>/<paramref name="file"/> with a single write(2).</summary>
    public static void Write(string cgroup, string dir, string file, string value)
    {
        try
        {
            FileSystemOps.WriteOnce(Path.Combine(dir, file), Encoding.ASCII.GetBytes(value));
        }
        catch (LinuxException e)
        {
            throw Error(cgroup, e.Operation == "open" ? $"opening {file} for writing" : $"writing {file} = \"{value}\"", e.Errno);
        }
    }

    public static bool TryWrite(string dir, string file, string value, out int errno)
    {
        try
        {
            Write("", dir, file, value);
            errno = 0;
            return true;
        }
        catch (CgroupException e) when (e.Errno != 0)
        {
            errno = e.Errno;
            return false;
        }
    }

    public static string Read(string cgroup, string dir, string file)
    {
        try
        {
            return File.ReadAllText(Path.Combine(dir, file));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CgroupException($"cgroup {cgroup}: reading {file}: {e.Message}", e);
        }
    }

    public static string? ReadOptional(string dir, string file)
    {
        string path = Path.Combine(dir, file);
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public static ulong ReadULong(string cgroup, string dir, string file)
    {
        string text = Read(cgroup, dir, file).Trim();
        if (text == "max")
        {
            return ulong.MaxValue;
        }

        return ulong.TryParse(text, out ulong v)
            ? v
            : throw new CgroupException($"cgroup {cgroup}: {file}: not a number: \"{text}\"");
    }

    /// <summary>Value of <paramref name="key"/> in a flat-keyed file ("key value" lines), or null.</summary>
    public static ulong? ReadKeyed(string dir, string file, string key)
    {
        string? text = ReadOptional(dir, file);
        if (text is null)
        {
            return null;
        }

        foreach (string line in text.Split('\n'))
        {
            int space = line.IndexOf(' ');
            if (space > 0 && line.AsSpan(0, space).SequenceEqual(key) && ulong.TryParse(line.AsSpan(space + 1).Trim(), out ulong v))
            {
                return v;
            }
        }

        return null;
    }

    public static List<int> ReadPids(string dir)
    {
        var pids = new List<int>();
        string? text = ReadOptional(dir, "cgroup.procs");
        if (text is null)
        {
            return pids;
        }

        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(line, out int pid))
            {
                pids.Add(pid);
            }
        }

        return pids;
    }

    /// <summary>mkdir(2) each missing component below <paramref name="root"/>; <paramref name="created"/> runs for each new directory.</summary>
    public static void MakeDirs(string cgroup, string root, string relativePath, Action<string, string>? created)
    {
        string parent = root;
        foreach (string part in relativePath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            string dir = Path.Combine(parent, part);
            if (!Directory.Exists(dir))
            {
                bool made;
                try
                {
                    made = FileSystemOps.MakeDirectory(dir, 0x1ED /* 0755 */);
                }
                catch (LinuxException e)
                {
                    throw Error(cgroup, $"creating directory {dir}", e.Errno);
                }

                if (made)
                {
                    created?.Invoke(parent, dir);
                }
            }

            parent = dir;
        }
    }

    public static CgroupException Error(string cgroup, string what, int errno) =>
        new($"cgroup {cgroup}: {what}: {LinuxException.Describe(errno)}") { Errno = errno };
}
