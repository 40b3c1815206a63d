using NodeAgent.Cgroups;
using NodeAgent.Cgroups.V1;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Cgroups;

public sealed class CgroupDetectionTests
{
    private const string PureV2 = """
        22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        """;

    private const string HybridSeparate = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """;

    private const string LegacyCoMounted = """
        25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
        28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpu,cpuacct
        29 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,memory
        30 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,net_cls,net_prio
        31 25 0:28 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpuset,clone_children
        """;

    [Fact]
    public void Pure_v2_mountinfo_is_V2()
    {
        CgroupLayout layout = CgroupManagerFactory.Detect(PureV2, _ => true);
        Assert.Equal(CgroupVersion.V2, layout.Version);
        Assert.Equal("/sys/fs/cgroup", layout.UnifiedMount);
    }

    [Fact]
    public void Hybrid_with_separate_cpu_and_cpuacct_is_V1_with_both_mounts()
    {
        CgroupLayout layout = CgroupManagerFactory.Detect(HybridSeparate, _ => true);
        Assert.Equal(CgroupVersion.V1, layout.Version);
        Assert.Equal("/sys/fs/cgroup/cpu", layout.V1Controllers["cpu"]);
        Assert.Equal("/sys/fs/cgroup/cpuacct", layout.V1Controllers["cpuacct"]);
        Assert.Equal("/sys/fs/cgroup/unified", layout.UnifiedMount);
        Assert.DoesNotContain("name=systemd", layout.V1Controllers.Keys);
    }

    [Fact]
    public void Legacy_with_cpu_cpuacct_comounted_maps_both_to_one_mount()
    {
        CgroupLayout layout = CgroupManagerFactory.Detect(LegacyCoMounted, _ => true);
        Assert.Equal(CgroupVersion.V1, layout.Version);
        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct", layout.V1Controllers["cpu"]);
        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct", layout.V1Controllers["cpuacct"]);
        Assert.Equal("/sys/fs/cgroup/cpuset", layout.V1Controllers["cpuset"]);
        Assert.False(layout.V1Controllers.ContainsKey("net_cls"));
    }

    [Fact]
    public void This_host_is_detected_as_hybrid_V1()
    {
        CgroupLayout layout = CgroupManagerFactory.Detect(File.ReadAllText("/proc/self/mountinfo"));
        Assert.Equal(CgroupVersion.V1, layout.Version);
        Assert.Contains("memory", layout.V1Controllers.Keys);
    }

    [Fact]
    public void Comounted_fixture_creates_one_directory_per_hierarchy()
    {
        using var dir = new TempDir("nodeagent-v1fixture");
        string cpu = Directory.CreateDirectory(dir.Combine("cpu,cpuacct", "g")).FullName;
        string pids = Directory.CreateDirectory(dir.Combine("pids", "g")).FullName;
        foreach (string f in (string[])["cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cgroup.procs"])
        {
            File.WriteAllText(Path.Combine(cpu, f), "");
        }

        File.WriteAllText(Path.Combine(pids, "pids.max"), "max");
        File.WriteAllText(Path.Combine(pids, "cgroup.procs"), "");

        var manager = (CgroupV1Manager)CgroupManagerFactory.Create("", dir.Path);
        ICgroup cg = manager.CreateOrUpdate("g", new CgroupResources { CpuShares = 512, CpuQuotaMicros = 20000, PidsLimit = 10 });

        Assert.Equal([Path.Combine(cpu, "cgroup.procs"), Path.Combine(pids, "cgroup.procs")], cg.ProcsFiles);
        Assert.Equal("512", File.ReadAllText(Path.Combine(cpu, "cpu.shares")));
        Assert.Equal("20000", File.ReadAllText(Path.Combine(cpu, "cpu.cfs_quota_us")));
        Assert.Equal("10", File.ReadAllText(Path.Combine(pids, "pids.max")));
    }
}
