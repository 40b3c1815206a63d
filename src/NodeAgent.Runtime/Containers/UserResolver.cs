using NodeAgent.Linux;

namespace NodeAgent.Runtime.Containers;

/// <summary>Resolves an image USER (<c>name</c>, <c>uid</c>, <c>name:group</c>, <c>uid:gid</c>) against the rootfs' passwd and group files.</summary>
public static class UserResolver
{
    public static (uint Uid, uint Gid, IReadOnlyList<uint> Groups) Resolve(string rootfs, string? user, long? runAsUser, long? runAsGroup)
    {
        uint uid = 0, gid = 0;
        string? userPart = null, groupPart = null;
        if (!string.IsNullOrEmpty(user))
        {
            var parts = user.Split(':', 2);
            userPart = parts[0];
            groupPart = parts.Length > 1 ? parts[1] : null;
        }

        var passwd = ReadDb(rootfs, "/etc/passwd");
        string? userName = null;
        var gidFromPasswd = false;
        if (runAsUser is { } ru)
        {
            uid = checked((uint)ru);
            var entry = passwd.FirstOrDefault(e => e.Length > 3 && e[2] == uid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (entry is not null)
            {
                userName = entry[0];
                gid = ParseId(entry[3]);
                gidFromPasswd = true;
            }
        }
        else if (!string.IsNullOrEmpty(userPart))
        {
            if (uint.TryParse(userPart, out var numeric))
            {
                uid = numeric;
                var entry = passwd.FirstOrDefault(e => e.Length > 3 && e[2] == userPart);
                if (entry is not null)
                {
                    userName = entry[0];
                    gid = ParseId(entry[3]);
                }
            }
            else
            {
                var entry = passwd.FirstOrDefault(e => e.Length > 3 && e[0] == userPart)
                    ?? throw new InvalidOperationException($"unable to find user {userPart}: no matching entries in passwd file");
                userName = entry[0];
                uid = ParseId(entry[2]);
                gid = ParseId(entry[3]);
            }
        }
        else
        {
            userName = "root";
        }

        if (runAsGroup is { } rg)
        {
            gid = checked((uint)rg);
        }
        else if (!string.IsNullOrEmpty(groupPart) && runAsUser is null)
        {
            if (uint.TryParse(groupPart, out var g))
            {
                gid = g;
            }
            else
            {
                var entry = ReadDb(rootfs, "/etc/group").FirstOrDefault(e => e.Length > 2 && e[0] == groupPart)
                    ?? throw new InvalidOperationException($"unable to find group {groupPart}: no matching entries in group file");
                gid = ParseId(entry[2]);
            }
        }
        else if (runAsUser is not null && !gidFromPasswd)
        {
            gid = 0;
        }

        var groups = new List<uint>();
        if (userName is not null)
        {
            foreach (var entry in ReadDb(rootfs, "/etc/group"))
            {
                if (entry.Length > 3 && entry[3].Split(',').Contains(userName) && uint.TryParse(entry[2], out var g) && g != gid)
                {
                    groups.Add(g);
                }
            }
        }

        return (uid, gid, groups);
    }

    private static uint ParseId(string s) => uint.TryParse(s, out var v) ? v : 0;

    private static List<string[]> ReadDb(string rootfs, string path)
    {
        string resolved;
        try
        {
            resolved = RootfsPath.Resolve(rootfs, path);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException($"unable to read {path} of the container's root filesystem: {ex.Message}", ex);
        }

        if (!File.Exists(resolved))
        {
            return [];
        }

        return File.ReadLines(resolved)
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(':'))
            .ToList();
    }
}
