using NodeAgent.Cgroups;
using NodeAgent.Cgroups.Stats;
using NodeAgent.Tests.Cgroups;

namespace NodeAgent.Tests.Stats;

/// <summary>
/// The cgroup v2 stats reader against <see cref="V2Fixture"/>, a directory laid out like a cgroup2 root with the
/// kernel's file formats (this hybrid CI host's cgroup2 hierarchy has no cpu/memory/pids/io controllers, so the real
/// kernel cannot give these files here). The values are what a kernel would write; the reader must parse each one.
/// </summary>
public sealed class CgroupV2StatsFixtureTests : IDisposable
{
    private const string Group = "kubepods/burstable/podabc/c1";
    private readonly V2Fixture _fx = new();

    public CgroupV2StatsFixtureTests() => _fx.AddGroup(Group);

    public void Dispose() => _fx.Dispose();

    private ICgroupStatsReader Reader() => CgroupManagerFactory.Create("", _fx.Root).CreateStatsReader();

    [Fact]
    public void Every_counter_is_read_from_its_v2_file()
    {
        _fx.Write(Group, "cgroup.procs", "101\n102\n103\n");
        _fx.Write(Group, "cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\ncore_sched.force_idle_usec 0\nnr_periods 40\nnr_throttled 7\nthrottled_usec 350000\nnr_bursts 0\nburst_usec 0\n");
        _fx.Write(Group, "memory.current", "52428800\n");
        _fx.Write(Group, "memory.stat", "anon 31457280\nfile 20971520\nkernel 1048576\nshmem 0\nfile_mapped 0\nactive_anon 0\ninactive_anon 31457280\nactive_file 4194304\ninactive_file 16777216\npgfault 9000\npgmajfault 12\n");
        _fx.Write(Group, "memory.events", "low 0\nhigh 0\nmax 5\noom 2\noom_kill 1\noom_group_kill 0\n");
        File.WriteAllText(_fx.PathOf(Group + "/memory.swap.current"), "4096\n");
        _fx.Write(Group, "pids.current", "9\n");
        File.WriteAllText(_fx.PathOf(Group + "/io.stat"), "8:0 rbytes=1048576 wbytes=2097152 rios=10 wios=20 dbytes=0 dios=0\n253:7 rbytes=5 wbytes=6 rios=1 wios=1 dbytes=0 dios=0\n");

        var usage = new CgroupUsage();
        Assert.True(Reader().TryRead(Group, usage));

        Assert.Equal(2_500_000_000UL, usage.CpuUsageNanos);
        Assert.Equal((40UL, 7UL, 350_000_000UL), (usage.CpuPeriods, usage.CpuThrottledPeriods, usage.CpuThrottledNanos));
        Assert.Equal(52428800UL, usage.MemoryUsageBytes);
        Assert.Equal(52428800UL - 16777216UL, usage.MemoryWorkingSetBytes);
        Assert.Equal((31457280UL, 20971520UL), (usage.MemoryRssBytes, usage.MemoryCacheBytes));
        Assert.Equal((9000UL, 12UL), (usage.PageFaults, usage.MajorPageFaults));
        Assert.Equal((5UL, 1UL), (usage.MemoryFailcnt, usage.OomKills));
        Assert.Equal(4096UL, usage.MemorySwapBytes);
        Assert.Equal((3UL, 9UL), (usage.Processes, usage.Threads));
        Assert.Equal(2, usage.DeviceIo.Count);
        Assert.Equal((1048576UL, 2097152UL), (usage.DeviceIo[0].ReadBytes, usage.DeviceIo[0].WriteBytes));
        Assert.Equal((5UL, 6UL), (usage.DeviceIo[1].ReadBytes, usage.DeviceIo[1].WriteBytes));
    }

    [Fact]
    public void Working_set_never_goes_below_zero()
    {
        _fx.Write(Group, "memory.current", "1000\n");
        _fx.Write(Group, "memory.stat", "anon 0\nfile 5000\ninactive_file 5000\n");
        var usage = new CgroupUsage();
        Assert.True(Reader().TryRead(Group, usage));
        Assert.Equal(0UL, usage.MemoryWorkingSetBytes);
    }

    [Fact]
    public void A_group_that_is_gone_is_reported_absent_and_a_later_one_is_read()
    {
        var reader = Reader();
        var usage = new CgroupUsage();
        Assert.False(reader.TryRead("kubepods/besteffort/podgone/c9", usage));

        _fx.AddGroup("kubepods/besteffort/podgone/c9");
        _fx.Write("kubepods/besteffort/podgone/c9", "cpu.stat", "usage_usec 7\n");
        Assert.True(reader.TryRead("kubepods/besteffort/podgone/c9", usage));
        Assert.Equal(7000UL, usage.CpuUsageNanos);

        Directory.Delete(_fx.PathOf("kubepods/besteffort/podgone/c9"), recursive: true);
        Assert.False(reader.TryRead("kubepods/besteffort/podgone/c9", usage));
    }

    [Fact]
    public void Garbage_in_a_file_reads_as_zero_not_as_an_exception()
    {
        _fx.Write(Group, "cpu.stat", "usage_usec banana\nnr_periods -3\n\0\0\n");
        _fx.Write(Group, "memory.current", "lots\n");
        File.WriteAllText(_fx.PathOf(Group + "/io.stat"), "8:x rbytes=1\n:: wbytes=\n8:1 rbytes=notanumber wbytes=3\n");
        var usage = new CgroupUsage();
        Assert.True(Reader().TryRead(Group, usage));
        Assert.Equal((0UL, 0UL, 0UL), (usage.CpuUsageNanos, usage.CpuPeriods, usage.MemoryUsageBytes));
        var io = Assert.Single(usage.DeviceIo);
        Assert.Equal((0UL, 3UL), (io.ReadBytes, io.WriteBytes));
    }

    [Fact]
    public void Ids_are_the_cgroup_paths_from_the_hierarchy_root()
    {
        Assert.Equal("/" + Group, Reader().IdOf(Group));
        Assert.Equal("/", Reader().IdOf(""));
        Assert.Equal("/pfx/" + Group, CgroupManagerFactory.Create("pfx", _fx.Root).CreateStatsReader().IdOf(Group));
    }
}
