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

    [PrivilegedFact]
    public async Task AnImageStopSignalThatIsNoSignalFailsCreateNamingIt()
    {
        // Docker refuses such an image at create too; containerd would instead fail every stop of the container.
        using var dir = new TempDir("nodeagent-stopsignal");
        var archive = Path.Combine(dir.Path, "bad.oci.tar");
        ImageVariant.WriteBusybox(archive, "localhost/busybox-badsignal:latest", config => config["StopSignal"] = "SIGNOPE\u001b[2J");
        await _rt.Images.ImportAsync(archive, CancellationToken.None);
        var sandbox = await _rt.Runtime.RunPodSandboxAsync(_rt.Pod("badsignal"), CancellationToken.None);

        var config = RuntimeFixture.Container("main", "true") with { Image = "localhost/busybox-badsignal:latest" };
        var ex = await Assert.ThrowsAsync<RuntimeException>(() => _rt.Runtime.CreateContainerAsync(sandbox, config, CancellationToken.None));
        Assert.Equal(RuntimeErrorKind.CreateContainerError, ex.Kind);
        Assert.Equal("container main (image localhost/busybox-badsignal:latest): the image's STOPSIGNAL \"SIGNOPE\\u001B[2J\" is not a signal (a name such as SIGTERM or TERM, or a number 1-64)", ex.Message);

        // A stop signal given with the config wins over the image's; one that is no signal is refused.
        var wanted = await _rt.Runtime.CreateContainerAsync(sandbox, config with { StopSignal = 10 }, CancellationToken.None);
        Assert.NotNull(_rt.Runtime.ContainerStatus(wanted));
        var refused = await Assert.ThrowsAsync<RuntimeException>(() => _rt.Runtime.CreateContainerAsync(sandbox, config with { Name = "other", StopSignal = 65 }, CancellationToken.None));
        Assert.Equal(RuntimeErrorKind.CreateContainerConfigError, refused.Kind);
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(Path.Combine(_rt.Root, "containers")), d => Path.GetFileName(d) != wanted);
    }

    public void Dispose() => _rt.Dispose();
}
