using System.Text;

namespace NodeAgent.Cgroups;

/// <summary>Detects the host's cgroup layout and builds the matching <see cref="ICgroupManager"/>.</summary>
public static class CgroupManagerFactory
{
    public const string DefaultMountRoot = "/sys/fs/cgroup";

    /// <summary>
    /// The manager for this host. <paramref name="rootPrefix"/> is a path under each hierarchy root that all
    /// cgroups live in ("" in production). <paramref name="mountRootOverride"/> replaces detection: a directory
    /// with <c>cgroup.controllers</c> is used as a v2 root, otherwise its subdirectories named after v1
    /// controllers are used as v1 hierarchies.
    /// </summary>
    public static ICgroupManager Create(string rootPrefix = "", string? mountRootOverride = null)
    {
        if (mountRootOverride is not null)
        {
            if (File.Exists(Path.Combine(mountRootOverride, "cgroup.controllers")))
            {
                return new V2.CgroupV2Manager(mountRootOverride, rootPrefix);
            }

            var controllers = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string dir in Directory.EnumerateDirectories(mountRootOverride))
            {
                foreach (string name in Path.GetFileName(dir).Split(','))
                {
                    controllers[name] = dir;
                }
            }

            return new V1.CgroupV1Manager(controllers, rootPrefix);
        }

        CgroupLayout layout = Detect(File.ReadAllText("/proc/self/mountinfo"));
        return layout.Version == CgroupVersion.V2
            ? new V2.CgroupV2Manager(layout.UnifiedMount!, rootPrefix)
            : new V1.CgroupV1Manager(layout.V1Controllers, rootPrefix);
    }

    /// <summary>Reads the layout from mountinfo text: pure v2 when cgroup2 is mounted at /sys/fs/cgroup with cgroup.controllers, otherwise v1.</summary>
    public static CgroupLayout Detect(string mountInfo, Func<string, bool>? fileExists = null)
    {
        fileExists ??= File.Exists;
        string? unified = null;
        var v1 = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in mountInfo.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            string[] fields = line.Split(' ');
            int dash = Array.IndexOf(fields, "-");
            if (dash < 5 || fields.Length < dash + 4)
            {
                continue;
            }

            string mountPoint = Unescape(fields[4]);
            string fsType = fields[dash + 1];
            if (fsType == "cgroup2")
            {
                if (unified is null || mountPoint == DefaultMountRoot)
                {
                    unified = mountPoint;
                }
            }
            else if (fsType == "cgroup")
            {
                foreach (string option in fields[dash + 3].Split(','))
                {
                    if (V1.CgroupV1Manager.KnownControllers.Contains(option) && !v1.ContainsKey(option))
                    {
                        v1[option] = mountPoint;
                    }
                }
            }
        }

        bool pureV2 = unified == DefaultMountRoot && v1.Count == 0 && fileExists(Path.Combine(unified, "cgroup.controllers"));
        if (pureV2)
        {
            return new CgroupLayout(CgroupVersion.V2, unified, v1);
        }

        if (v1.Count == 0)
        {
            if (unified is not null && fileExists(Path.Combine(unified, "cgroup.controllers")))
            {
                return new CgroupLayout(CgroupVersion.V2, unified, v1);
            }

            throw new CgroupException("no cgroup hierarchy found in /proc/self/mountinfo: neither cgroup2 nor a v1 controller is mounted");
        }

        return new CgroupLayout(CgroupVersion.V1, unified, v1);
    }

    /// <summary>mountinfo escapes space, tab, newline and backslash as \ooo octal.</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\'))
        {
            return field;
        }

        var sb = new StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1))
            {
                sb.Append((char)(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0')));
                i += 3;
            }
            else
            {
                sb.Append(field[i]);
            }
        }

        return sb.ToString();
    }

    private static bool IsOctal(string s, int start)
    {
        if (start + 3 > s.Length)
        {
            return false;
        }

        for (int i = start; i < start + 3; i++)
        {
            if (s[i] is < '0' or > '7')
            {
                return false;
            }
        }

        return true;
    }
}
