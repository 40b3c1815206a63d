using System.Runtime.InteropServices;
using System.Text;

namespace NodeAgent.Cgroups;

/// <summary>Reads and writes cgroupfs interface files, turning the kernel's errno into a <see cref="CgroupException"/>.</summary>
internal static class CgroupFs
{
    public const int EEXIST = 17;
    public const int ENOENT = 2;
    public const int EBUSY = 16;
    public const int ESRCH = 3;
    public const int EINTR = 4;

    public static string ErrnoName(int errno) => errno switch
    {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        4 => "EINTR",
        5 => "EIO",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        16 => "EBUSY",
        17 => "EEXIST",
        22 => "EINVAL",
        28 => "ENOSPC",
        30 => "EROFS",
        39 => "ENOTEMPTY",
        95 => "EOPNOTSUPP",
        _ => "errno " + errno,
    };

    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} ({ErrnoName(errno)})";

    /// <summary>Writes <paramref name="value"/> to <paramref name="dir"/>/<paramref name="file"/> with a single write(2).</summary>
    public static unsafe void Write(string cgroup, string dir, string file, string value)
    {
        string path = Path.Combine(dir, file);
        int fd = Interop.open(path, Interop.O_WRONLY | Interop.O_TRUNC | Interop.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw Error(cgroup, $"opening {file} for writing", Marshal.GetLastPInvokeError());
        }

        try
        {
            byte[] bytes = Encoding.ASCII.GetBytes(value);
            fixed (byte* p = bytes)
            {
                nint n = Interop.write(fd, p, bytes.Length);
                if (n < 0)
                {
                    throw Error(cgroup, $"writing {file} = \"{value}\"", Marshal.GetLastPInvokeError());
                }
            }
        }
        finally
        {
            Interop.close(fd);
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
                if (Interop.mkdir(dir, 0x1ED /* 0755 */) != 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno != EEXIST)
                    {
                        throw Error(cgroup, $"creating directory {dir}", errno);
                    }
                }
                else
                {
                    created?.Invoke(parent, dir);
                }
            }

            parent = dir;
        }
    }

    public static CgroupException Error(string cgroup, string what, int errno) =>
        new($"cgroup {cgroup}: {what}: {Describe(errno)}") { Errno = errno };
}
