using NodeAgent.Cgroups;
using NodeAgent.Tests.Support;
using NodeAgent.Cri;

namespace NodeAgent.Tests.Cgroups;

/// <summary>
/// Behaviour every <see cref="ICgroupManager"/> backend must have, run against the real kernel. Each derived class
/// builds a manager whose cgroups live under a unique <c>nodeagent-test-*</c> prefix, removed on dispose.
/// </summary>
public abstract class CgroupConformanceTests : IDisposable
{
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    protected CgroupConformanceTests()
    {
        Prefix = "nodeagent-test-" + Guid.NewGuid().ToString("N")[..12];
    }

    protected string Prefix { get; }

    protected abstract ICgroupManager Manager { get; }

    /// <summary>Directories where this test's prefix lives in each hierarchy, for leak checks.</summary>
    protected abstract IEnumerable<string> PrefixDirectories { get; }

    public void Dispose()
    {
        if (!Privileged.SkipRequested)
        {
            Manager.Remove(""); // kills whatever a failed test left and removes the prefix in every hierarchy
        }

        GC.SuppressFinalize(this);
    }

    [PrivilegedFact]
    public void CreateOrUpdate_creates_nested_group_that_Open_finds()
    {
        ICgroup cg = Manager.CreateOrUpdate("kubepods/burstable/podabc/c1", new CgroupResources());
        Assert.Equal("kubepods/burstable/podabc/c1", cg.RelativePath);
        Assert.All(cg.ProcsFiles, f => Assert.True(File.Exists(f), f));
        Assert.NotNull(Manager.Open("kubepods/burstable/podabc/c1"));
        Assert.NotNull(Manager.Open("kubepods/burstable/podabc"));
        Assert.Empty(cg.GetPids());
    }

    [PrivilegedFact]
    public void Open_of_missing_group_returns_null()
    {
        Assert.Null(Manager.Open("kubepods/podmissing"));
    }

    [PrivilegedFact]
    public void CreateOrUpdate_twice_is_idempotent()
    {
        Manager.CreateOrUpdate("kubepods/pod1", new CgroupResources());
        ICgroup again = Manager.CreateOrUpdate("kubepods/pod1", new CgroupResources());
        Assert.Equal("kubepods/pod1", again.RelativePath);
    }

    [PrivilegedFact]
    public void AddProcess_moves_process_and_GetPids_reports_it()
    {
        ICgroup cg = Manager.CreateOrUpdate("kubepods/pod2/c1", new CgroupResources());
        using var p = new GatedProcess("exec sleep 60");
        cg.AddProcess(p.Pid);
        Assert.Contains(p.Pid, cg.GetPids());
        p.Release();
        Assert.Contains(p.Pid, cg.GetPids()); // exec keeps the pid and the membership
    }

    [PrivilegedFact]
    public async Task Writing_zero_to_ProcsFiles_joins_the_writer()
    {
        ICgroup cg = Manager.CreateOrUpdate("kubepods/pod3/c1", new CgroupResources());
        string files = string.Join(' ', cg.ProcsFiles.Select(f => "'" + f + "'"));
        using var p = new GatedProcess($"for f in {files}; do echo 0 > \"$f\"; done; echo joined; exec sleep 60");
        p.Release();
        Assert.Equal("joined", await p.ReadLineAsync(Timeout));
        Assert.Equal([p.Pid], cg.GetPids());
    }

    [PrivilegedFact]
    public async Task Remove_kills_leftover_processes_in_group_and_children()
    {
        ICgroup pod = Manager.CreateOrUpdate("kubepods/pod4", new CgroupResources());
        ICgroup ctr = Manager.CreateOrUpdate("kubepods/pod4/c1", new CgroupResources());
        using var a = new GatedProcess("exec sleep 600");
        using var b = new GatedProcess("sleep 600 & sleep 600 & echo forked; wait");
        pod.AddProcess(a.Pid);
        ctr.AddProcess(b.Pid);
        b.Release();
        Assert.Equal("forked", await b.ReadLineAsync(Timeout));
        Assert.Equal(3, ctr.GetPids().Count);

        Manager.Remove("kubepods/pod4");

        Assert.Null(Manager.Open("kubepods/pod4/c1"));
        Assert.Null(Manager.Open("kubepods/pod4"));
        await a.WaitForExitAsync(Timeout);
        await b.WaitForExitAsync(Timeout);
        Assert.Equal(137, a.Process.ExitCode); // SIGKILL, reported as 128 + 9
    }

    [PrivilegedFact]
    public void Remove_removes_child_groups_deepest_first()
    {
        Manager.CreateOrUpdate("kubepods/besteffort/pod5/c1", new CgroupResources());
        Manager.CreateOrUpdate("kubepods/besteffort/pod5/c2", new CgroupResources());
        Manager.Remove("kubepods/besteffort/pod5");
        Assert.Null(Manager.Open("kubepods/besteffort/pod5"));
        Assert.NotNull(Manager.Open("kubepods/besteffort"));
    }

    [PrivilegedFact]
    public void Remove_of_missing_group_is_a_no_op()
    {
        Manager.Remove("kubepods/podnothere");
    }

    [PrivilegedFact]
    public void Dispose_leaves_nothing_under_the_prefix()
    {
        Manager.CreateOrUpdate(KubepodsLayout.ContainerPath(KubepodsLayout.PodPath(QosClass.Guaranteed, "u1"), "abc"), new CgroupResources());
        Manager.Remove("");
        Assert.All(PrefixDirectories, d => Assert.False(Directory.Exists(d), d));
    }
}
