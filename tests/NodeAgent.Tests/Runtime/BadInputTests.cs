using NodeAgent.Cgroups;
using NodeAgent.Images;
using NodeAgent.Linux;
using NodeAgent.Cri;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime;

/// <summary>Inputs the kernel or the disk refuse: a clear error naming what and why, and nothing half-made left behind.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly RuntimeFixture _rt = new();

    [PrivilegedFact]
    public async Task ACgroupLimitTheKernelRefusesFailsCreateAndUndoesEverything()
    {
        var sandbox = await _rt.Runtime.RunPodSandboxAsync(_rt.Pod("refused"), CancellationToken.None);

        // The kernel's CFS quota minimum is 1000 µs.
        var config = RuntimeFixture.Container("main", "true") with { Resources = new LinuxContainerResources { CpuQuotaMicros = 500 } };
        var ex = await Assert.ThrowsAsync<RuntimeException>(() => _rt.Runtime.CreateContainerAsync(sandbox, config, CancellationToken.None));
        Assert.Equal(RuntimeErrorKind.CreateContainerError, ex.Kind);
        Assert.Contains("container main", ex.Message);
        Assert.Contains("cpu.cfs_quota_us", ex.Message);

        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_rt.Root, "containers")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_rt.Root, "snapshots", "containers")));
        Assert.DoesNotContain(Mounts.ListUnder(_rt.Root), m => m.Contains("/containers/", StringComparison.Ordinal));
        var pod = _rt.Cgroups.Open("kubepods/besteffort/podrefused");
        Assert.NotNull(pod);
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine("/sys/fs/cgroup/pids", _rt.CgroupPrefix, "kubepods/besteffort/podrefused")));

        // The sandbox is untouched: another container starts in it.
        var ok = await _rt.Runtime.CreateContainerAsync(sandbox, RuntimeFixture.Container("next", "true"), CancellationToken.None);
        await _rt.Runtime.StartContainerAsync(ok, CancellationToken.None);
        Assert.Equal(0, (await _rt.WaitAsync(ok)).ExitCode);
    }

    [PrivilegedFact]
    public async Task AFullDiskFailsTheImportWithNothingLeftBehind()
    {
        using var dir = new TempDir("nodeagent-fulldisk");
        Mounts.Mount("tmpfs", dir.Path, "tmpfs", MountFlags.None, "size=256k");
        try
        {
            var store = new ImageStore(dir.Path);
            var ex = await Assert.ThrowsAnyAsync<Exception>(() => store.ImportAsync(TestImages.BusyboxOci, CancellationToken.None));
            Assert.Contains("No space left on device", ex.Message);
            Assert.Contains("busybox.oci.tar", ex.Message);
            Assert.Empty(store.List());
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(dir.Path, "content"), "*", SearchOption.AllDirectories));
        }
        finally
        {
            Mounts.Unmount(dir.Path, detach: true);
        }
    }

    public void Dispose() => _rt.Dispose();
}
