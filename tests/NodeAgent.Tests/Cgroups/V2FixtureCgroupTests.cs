using NodeAgent.Runtime.Containers;
using NodeAgent.Cgroups;
using NodeAgent.Cgroups.V2;
using NodeAgent.Cri;

namespace NodeAgent.Tests.Cgroups;

/// <summary>
/// cgroup v2 value writing and stats parsing against <see cref="V2Fixture"/>, a directory laid out like a cgroup2
/// root (this hybrid host's real cgroup2 hierarchy has no cpu/memory/pids controllers). No root needed.
/// </summary>
public sealed class V2FixtureCgroupTests : IDisposable
{
    private readonly V2Fixture _fx = new();

    public void Dispose() => _fx.Dispose();

    private CgroupV2Manager Manager() => (CgroupV2Manager)CgroupManagerFactory.Create("", _fx.Root);

    [Fact]
    public void Factory_with_a_v2_mount_root_override_builds_a_v2_manager()
    {
        Assert.Equal(CgroupVersion.V2, CgroupManagerFactory.Create("", _fx.Root).Version);
    }

    [Fact]
    public void Fixture_CreateOrUpdate_enables_controllers_in_every_ancestor()
    {
        _fx.AddGroup("kubepods/burstable/podx/c1");
        Manager().CreateOrUpdate("kubepods/burstable/podx/c1", new CgroupResources());
        foreach (string level in (string[])["", "kubepods", "kubepods/burstable", "kubepods/burstable/podx"])
        {
            Assert.Equal("+cpuset +cpu +io +memory +pids", _fx.Read(level, "cgroup.subtree_control"));
        }

        Assert.Equal("", _fx.Read("kubepods/burstable/podx/c1", "cgroup.subtree_control"));
    }

    [Fact]
    public void Fixture_controllers_already_enabled_are_not_rewritten()
    {
        _fx.AddGroup("kubepods");
        _fx.Write("", "cgroup.subtree_control", "cpuset cpu io memory pids\n");
        Manager().CreateOrUpdate("kubepods", new CgroupResources());
        Assert.Equal("cpuset cpu io memory pids", _fx.Read("", "cgroup.subtree_control"));
    }

    [Fact]
    public void Fixture_limits_are_written_in_v2_units()
    {
        _fx.AddGroup("kubepods/burstable/pody");
        Manager().CreateOrUpdate("kubepods/burstable/pody", KubepodsLayout.Resources(QosClass.Burstable, 500, 1500, 128L << 20, 100).ToCgroup());
        Assert.Equal("20", _fx.Read("kubepods/burstable/pody", "cpu.weight")); // shares 512 → 1 + 510*9999/262142
        Assert.Equal("150000 100000", _fx.Read("kubepods/burstable/pody", "cpu.max"));
        Assert.Equal((128L << 20).ToString(), _fx.Read("kubepods/burstable/pody", "memory.max"));
        Assert.Equal("100", _fx.Read("kubepods/burstable/pody", "pids.max"));
    }

    [Fact]
    public void Fixture_no_limits_write_max()
    {
        _fx.AddGroup("kubepods/besteffort/podz");
        ICgroup cg = Manager().CreateOrUpdate("kubepods/besteffort/podz", KubepodsLayout.Resources(QosClass.BestEffort, 0, 0, null).ToCgroup());
        Assert.Equal("1", _fx.Read("kubepods/besteffort/podz", "cpu.weight")); // shares 2 → weight 1
        Assert.Equal("max 100000", _fx.Read("kubepods/besteffort/podz", "cpu.max"));
        Assert.Equal("max", _fx.Read("kubepods/besteffort/podz", "memory.max"));
        Assert.Equal("max", _fx.Read("kubepods/besteffort/podz", "pids.max"));
        Assert.Equal("kubepods/besteffort/podz", cg.RelativePath);
    }

    [Fact]
    public void Fixture_OomKillCount_reads_memory_events()
    {
        _fx.AddGroup("p");
        ICgroup cg = Manager().CreateOrUpdate("p", new CgroupResources());
        Assert.Equal(0, cg.OomKillCount());
        _fx.Write("p", "memory.events", "low 0\nhigh 0\nmax 7\noom 3\noom_kill 2\noom_group_kill 0\n");
        Assert.Equal(2, cg.OomKillCount());
    }

    [Fact]
    public void Fixture_ReadStats_parses_cpu_stat_memory_current_and_inactive_file()
    {
        _fx.AddGroup("p");
        ICgroup cg = Manager().CreateOrUpdate("p", new CgroupResources());
        _fx.Write("p", "cpu.stat", "usage_usec 1234\nuser_usec 1000\nsystem_usec 234\n");
        _fx.Write("p", "memory.current", "10000000\n");
        _fx.Write("p", "memory.stat", "anon 100\nfile 5000\nactive_file 1000\ninactive_file 4000000\n");
        _fx.Write("p", "pids.current", "3\n");

        Assert.Equal(new CgroupStats(1_234_000, 10_000_000, 6_000_000, 3), cg.ReadStats());
    }

    [Fact]
    public void Fixture_cpu_limit_without_cpu_controller_names_the_cgroup()
    {
        _fx.AddGroup("p");
        File.Delete(_fx.PathOf("p/cpu.max"));
        var e = Assert.Throws<CgroupException>(() => Manager().CreateOrUpdate("p", new CgroupResources { CpuQuotaMicros = 5000 }));
        Assert.StartsWith("cgroup p: a CPU limit was asked for", e.Message);
    }

    [Fact]
    public void Fixture_root_prefix_places_groups_under_it()
    {
        _fx.AddGroup("nodeagent-test-x/kubepods");
        var m = (CgroupV2Manager)CgroupManagerFactory.Create("nodeagent-test-x", _fx.Root);
        var cg = (CgroupV2)m.CreateOrUpdate("kubepods", new CgroupResources { PidsLimit = 9 });
        Assert.Equal(_fx.PathOf("nodeagent-test-x/kubepods"), cg.Directory);
        Assert.Equal("9", _fx.Read("nodeagent-test-x/kubepods", "pids.max"));
    }
}
