using NodeAgent.Runtime.Containers;
using NodeAgent.Cgroups;
using NodeAgent.Cgroups.V1;
using NodeAgent.Tests.Support;
using NodeAgent.Cri;

namespace NodeAgent.Tests.Cgroups;

/// <summary>The conformance suite and v1 limits against this host's real cgroup v1 hierarchies (separate cpu and cpuacct mounts).</summary>
public sealed class V1KernelCgroupTests : CgroupConformanceTests
{
    private readonly CgroupV1Manager? _manager;

    public V1KernelCgroupTests()
    {
        if (!Privileged.SkipRequested)
        {
            _manager = (CgroupV1Manager)CgroupManagerFactory.Create(Prefix);
        }
    }

    protected override ICgroupManager Manager => _manager ?? throw new InvalidOperationException("privileged tests skipped");

    protected override IEnumerable<string> PrefixDirectories => _manager!.ControllerRoots.Values;

    [PrivilegedFact]
    public void Factory_detects_v1_on_this_hybrid_host()
    {
        Assert.Equal(CgroupVersion.V1, Manager.Version);
        Assert.Contains("memory", _manager!.ControllerRoots.Keys);
        Assert.Contains("pids", _manager.ControllerRoots.Keys);
    }

    [PrivilegedFact]
    public void Group_exists_in_every_mounted_controller_hierarchy()
    {
        var cg = (CgroupV1)Manager.CreateOrUpdate("kubepods/podv1", new CgroupResources());
        foreach (string controller in _manager!.ControllerRoots.Keys)
        {
            Assert.True(Directory.Exists(cg.DirectoryOf(controller)), controller);
        }

        Assert.Equal(cg.ProcsFiles.Count, cg.ProcsFiles.Distinct().Count());
    }

    [PrivilegedFact]
    public void Cpuset_child_inherits_cpus_and_mems_so_tasks_can_join()
    {
        var cg = (CgroupV1)Manager.CreateOrUpdate("kubepods/podcs/c1", new CgroupResources());
        string dir = cg.DirectoryOf("cpuset")!;
        Assert.NotEqual("", File.ReadAllText(Path.Combine(dir, "cpuset.cpus")).Trim());
        Assert.NotEqual("", File.ReadAllText(Path.Combine(dir, "cpuset.mems")).Trim());
        using var p = new GatedProcess("exec sleep 60");
        cg.AddProcess(p.Pid);
        Assert.Contains(p.Pid, cg.GetPids());
    }

    [PrivilegedFact]
    public void Cpu_values_are_written_and_read_back()
    {
        var cg = (CgroupV1)Manager.CreateOrUpdate("kubepods/burstable/podcpu", KubepodsLayout.Resources(QosClass.Burstable, 250, 500, null).ToCgroup());
        string cpu = cg.DirectoryOf("cpu")!;
        Assert.Equal("256", File.ReadAllText(Path.Combine(cpu, "cpu.shares")).Trim());
        Assert.Equal("50000", File.ReadAllText(Path.Combine(cpu, "cpu.cfs_quota_us")).Trim());
        Assert.Equal("100000", File.ReadAllText(Path.Combine(cpu, "cpu.cfs_period_us")).Trim());

        cg.Apply(new CgroupResources { CpuShares = 2 });
        Assert.Equal("2", File.ReadAllText(Path.Combine(cpu, "cpu.shares")).Trim());
        Assert.Equal("-1", File.ReadAllText(Path.Combine(cpu, "cpu.cfs_quota_us")).Trim());
    }

    [PrivilegedFact]
    public async Task Memory_limit_is_enforced_by_the_OOM_killer()
    {
        ICgroup cg = Manager.CreateOrUpdate("kubepods/podoom/c1", new CgroupResources { MemoryLimitBytes = 32 * 1024 * 1024 });
        var memory = ((CgroupV1)cg).DirectoryOf("memory")!;
        Assert.Equal((32 * 1024 * 1024).ToString(), File.ReadAllText(Path.Combine(memory, "memory.limit_in_bytes")).Trim());
        Assert.Equal(0, cg.OomKillCount());

        using var p = new GatedProcess("exec tail /dev/zero"); // tail buffers an endless line
        cg.AddProcess(p.Pid);
        p.Release();
        int exit = await p.WaitForExitAsync(Timeout);

        Assert.Equal(137, exit);
        Assert.True(cg.OomKillCount() > 0, "memory.oom_control oom_kill should count the kill");
    }

    [PrivilegedFact]
    public async Task Pids_limit_makes_fork_fail()
    {
        ICgroup cg = Manager.CreateOrUpdate("kubepods/podpids/c1", new CgroupResources { PidsLimit = 2 });
        using var p = new GatedProcess("sleep 60 >/dev/null 2>&1 & sleep 60 >/dev/null 2>&1 & wait");
        cg.AddProcess(p.Pid);
        p.Release();
        int exit = await p.WaitForExitAsync(Timeout);

        Assert.NotEqual(0, exit);
        Assert.Contains("fork", await p.Stderr.WaitAsync(Timeout), StringComparison.OrdinalIgnoreCase);
        Assert.True(cg.ReadStats().PidsCurrent <= 2);
    }

    [PrivilegedFact]
    public async Task Stats_are_non_zero_for_a_busy_process()
    {
        ICgroup cg = Manager.CreateOrUpdate("kubepods/podstats/c1", new CgroupResources());
        using var p = new GatedProcess("i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo busy; exec sleep 60");
        cg.AddProcess(p.Pid);
        p.Release();
        Assert.Equal("busy", await p.ReadLineAsync(Timeout));

        CgroupStats stats = cg.ReadStats();
        Assert.True(stats.CpuUsageNanos > 10_000_000, $"cpu {stats.CpuUsageNanos} ns");
        Assert.True(stats.MemoryUsageBytes > 0);
        Assert.True(stats.MemoryWorkingSetBytes > 0 && stats.MemoryWorkingSetBytes <= stats.MemoryUsageBytes);
        Assert.Equal(1UL, stats.PidsCurrent);
    }

    [PrivilegedFact]
    public void A_refused_write_names_the_cgroup_file_value_and_errno()
    {
        var e = Assert.Throws<CgroupException>(() => Manager.CreateOrUpdate("kubepods/podbad", new CgroupResources { PidsLimit = -5 }));
        Assert.Equal("cgroup kubepods/podbad: writing pids.max = \"-5\": Invalid argument (EINVAL)", e.Message);
        Assert.Equal(22, e.Errno);
    }

    [PrivilegedFact]
    public void Lowering_the_memory_limit_updates_it()
    {
        var cg = (CgroupV1)Manager.CreateOrUpdate("kubepods/podmem", new CgroupResources { MemoryLimitBytes = 64 << 20 });
        cg.Apply(new CgroupResources { MemoryLimitBytes = 48 << 20 });
        Assert.Equal((48 << 20).ToString(), File.ReadAllText(Path.Combine(cg.DirectoryOf("memory")!, "memory.limit_in_bytes")).Trim());
        cg.Apply(new CgroupResources());
        Assert.True(long.Parse(File.ReadAllText(Path.Combine(cg.DirectoryOf("memory")!, "memory.limit_in_bytes")).Trim()) > 1L << 40);
    }

    [PrivilegedFact]
    public async Task Memory_limit_below_usage_is_refused_with_EBUSY_naming_the_cgroup()
    {
        ICgroup cg = Manager.CreateOrUpdate("kubepods/podbusy/c1", new CgroupResources());
        using var p = new GatedProcess("x=$(head -c 20000000 /dev/zero | tr '\\0' a); echo ready; exec sleep 60");
        cg.AddProcess(p.Pid);
        p.Release();
        Assert.Equal("ready", await p.ReadLineAsync(Timeout));

        var e = Assert.Throws<CgroupException>(() => cg.Apply(new CgroupResources { MemoryLimitBytes = 4096 }));
        Assert.Equal("cgroup kubepods/podbusy/c1: writing memory.limit_in_bytes = \"4096\": Device or resource busy (EBUSY)", e.Message);
    }
}
