using NodeAgent.Linux;

namespace NodeAgent.Cgroups;

/// <summary>Walks and removes a cgroup directory tree in one hierarchy.</summary>
internal static class CgroupTree
{
    /// <summary>The directory and all its descendant cgroups, deepest first.</summary>
    public static List<string> DeepestFirst(string dir)
    {
        var result = new List<string>();
        if (Directory.Exists(dir))
        {
            Walk(dir, result);
        }

        return result;
    }

    private static void Walk(string dir, List<string> result)
    {
        foreach (string child in Directory.EnumerateDirectories(dir))
        {
            Walk(child, result);
        }

        result.Add(dir);
    }

    public static List<int> AllPids(IEnumerable<string> dirs)
    {
        var pids = new HashSet<int>();
        foreach (string dir in dirs)
        {
            pids.UnionWith(CgroupFs.ReadPids(dir));
        }

        return [.. pids];
    }

    /// <summary>
    /// Kills every process in the trees, waits for the kernel to report them gone, and removes the directories
    /// deepest first. <paramref name="beforeKill"/>/<paramref name="afterKill"/> let a backend freeze and thaw.
    /// </summary>
    public static void KillAndRemove(string cgroup, IReadOnlyList<string> roots, Action? beforeKill, Action? afterKill)
    {
        const int Rounds = 50;
        for (int round = 0; ; round++)
        {
            var dirs = new List<string>();
            foreach (string root in roots)
            {
                dirs.AddRange(DeepestFirst(root));
            }

            if (dirs.Count == 0)
            {
                return;
            }

            List<int> pids = AllPids(dirs);
            if (pids.Count > 0)
            {
                beforeKill?.Invoke();
                pids = AllPids(dirs); // frozen now: no new forks escape the list.
                using var reaper = new ProcessReaper(pids);
                reaper.KillAll();
                afterKill?.Invoke();
                reaper.WaitForExit(TimeSpan.FromSeconds(1));
            }

            int busy = 0;
            int lastErrno = 0;
            string lastDir = "";
            foreach (string dir in dirs)
            {
                try
                {
                    FileSystemOps.RemoveDirectory(dir); // false: already gone.
                }
                catch (LinuxException e) when (e.Errno == ErrnoNames.EBUSY)
                {
                    busy++;
                    lastErrno = e.Errno;
                    lastDir = dir;
                }
                catch (LinuxException e)
                {
                    throw CgroupFs.Error(cgroup, $"removing {dir}", e.Errno);
                }
            }

            if (busy == 0)
            {
                return;
            }

            if (round >= Rounds)
            {
                throw CgroupFs.Error(cgroup, $"removing {lastDir} after killing its processes {Rounds} times", lastErrno);
            }

            // Processes that have exited but are not yet unlinked from the cgroup: let the kernel finish.
            Thread.Yield();
        }
    }
}
