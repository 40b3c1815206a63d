using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Cgroups;

/// <summary>
/// A directory laid out like a cgroup2 root with cpuset, cpu, io, memory and pids available. The kernel creates a
/// cgroup's interface files on mkdir; <see cref="AddGroup"/> does the same here, with the kernel's default values.
/// </summary>
public sealed class V2Fixture : IDisposable
{
    private readonly TempDir _dir = new("nodeagent-v2fixture");

    public V2Fixture()
    {
        Root = _dir.Path;
        WriteInterfaceFiles(Root, root: true);
    }

    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>Creates the group and its missing parents as the kernel would.</summary>
    public void AddGroup(string relative)
    {
        string dir = Root;
        foreach (string part in relative.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            dir = Path.Combine(dir, part);
            if (!Directory.Exists(dir))
            {
                Directory.CreateDirectory(dir);
                WriteInterfaceFiles(dir, root: false);
            }
        }
    }

    public string Read(string relative, string file) => File.ReadAllText(Path.Combine(Root, relative, file)).Trim();

    public void Write(string relative, string file, string content) => File.WriteAllText(Path.Combine(Root, relative, file), content);

    public void Dispose() => _dir.Dispose();

    private static void WriteInterfaceFiles(string dir, bool root)
    {
        File.WriteAllText(Path.Combine(dir, "cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n");
        File.WriteAllText(Path.Combine(dir, "cgroup.subtree_control"), "");
        File.WriteAllText(Path.Combine(dir, "cgroup.procs"), "");
        File.WriteAllText(Path.Combine(dir, "cpu.stat"), "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
        if (root)
        {
            return; // the root has no cpu.max/memory.max/pids.max
        }

        File.WriteAllText(Path.Combine(dir, "cgroup.kill"), "");
        File.WriteAllText(Path.Combine(dir, "cgroup.freeze"), "0\n");
        File.WriteAllText(Path.Combine(dir, "cpu.weight"), "100\n");
        File.WriteAllText(Path.Combine(dir, "cpu.max"), "max 100000\n");
        File.WriteAllText(Path.Combine(dir, "memory.max"), "max\n");
        File.WriteAllText(Path.Combine(dir, "memory.current"), "0\n");
        File.WriteAllText(Path.Combine(dir, "memory.stat"), "anon 0\nfile 0\ninactive_file 0\n");
        File.WriteAllText(Path.Combine(dir, "memory.events"), "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
        File.WriteAllText(Path.Combine(dir, "pids.max"), "max\n");
        File.WriteAllText(Path.Combine(dir, "pids.current"), "0\n");
    }
}
