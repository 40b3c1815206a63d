using NodeAgent.Cgroups;
using NodeAgent.Cgroups.V2;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Cgroups;

/// <summary>
/// The conformance suite against a real cgroup2 hierarchy: on this hybrid host <c>/sys/fs/cgroup/unified</c>
/// (no cpu/memory/pids controllers there, so limits are tested on <see cref="V2FixtureCgroupTests"/>).
/// Creation, cgroup.procs, membership, cgroup.kill and removal are real kernel behaviour.
/// </summary>
public sealed class V2KernelUnifiedCgroupTests : CgroupConformanceTests
{
    private const string Unified = "/sys/fs/cgroup/unified";
    private readonly CgroupV2Manager? _manager;

    public V2KernelUnifiedCgroupTests()
    {
        if (!Privileged.SkipRequested)
        {
            _manager = new CgroupV2Manager(Unified, Prefix);
        }
    }

    protected override ICgroupManager Manager => _manager ?? throw new InvalidOperationException("privileged tests skipped");

    protected override IEnumerable<string> PrefixDirectories => [_manager!.Root];

    [PrivilegedFact]
    public void Child_groups_have_cgroup_kill_so_Remove_uses_it()
    {
        var cg = (CgroupV2)Manager.CreateOrUpdate("kubepods/podk", new CgroupResources());
        Assert.True(File.Exists(Path.Combine(cg.Directory, "cgroup.kill")));
        Assert.Equal(CgroupVersion.V2, Manager.Version);
    }

    [PrivilegedFact]
    public async Task Remove_with_cgroup_kill_kills_a_forking_tree()
    {
        ICgroup cg = Manager.CreateOrUpdate("kubepods/podfork/c1", new CgroupResources());
        using var p = new GatedProcess("while :; do sleep 600 & echo started; sleep 600; done");
        cg.AddProcess(p.Pid);
        p.Release();
        Assert.Equal("started", await p.ReadLineAsync(Timeout));
        Manager.Remove("kubepods/podfork");
        Assert.Equal(137, await p.WaitForExitAsync(Timeout));
        Assert.Null(Manager.Open("kubepods/podfork"));
    }
}
