using NodeAgent.Cri;
using NodeAgent.Linux;
using NodeAgent.Runtime;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime;

/// <summary>
/// The runtime's volatile state (containers, sandboxes) apart from its root, as containerd keeps /run/containerd
/// apart from /var/lib/containerd: nothing of a container but its writable layer is on the root; a restart finds
/// the running containers again; a state directory that is gone (a reboot) leaves no writable layer behind.
/// </summary>
public sealed class RuntimeStateDirTests : IDisposable
{
    private readonly RuntimeFixture _rt = new(separateState: true);

    [Theory]
    [InlineData("/var/lib/nodeagent", null, false, "/run/nodeagent")]
    [InlineData("/var/lib/nodeagent", null, true, "/var/lib/nodeagent")]
    [InlineData("/var/lib/nodeagent/", null, false, "/run/nodeagent")]
    [InlineData("/srv/agent", null, false, "/srv/agent")]
    [InlineData("/srv/agent", "/run/agent", false, "/run/agent")]
    [InlineData("/var/lib/nodeagent", "/dev/shm/x/../agent", true, "/dev/shm/agent")]
    public void TheStateDirectoryIsResolvedFromTheFlagsAndWhatTheRootHolds(string root, string? state, bool rootHoldsContainers, string expected) =>
        Assert.Equal(expected, RuntimeOptions.ResolveStateDir(root, state, _ => rootHoldsContainers));

    [PrivilegedFact]
    public async Task ContainersAndSandboxesLiveUnderTheStateDirectoryAndAreFoundAfterARestart()
    {
        var (sandbox, id) = await _rt.StartAsync("apart", RuntimeFixture.Container("main", "sleep", "300"));

        Assert.True(Directory.Exists(Path.Combine(_rt.State, "containers", id, "rootfs")));
        Assert.True(File.Exists(Path.Combine(_rt.State, "containers", id, "state.json")));
        Assert.True(File.Exists(Path.Combine(_rt.State, "sandboxes", sandbox, "sandbox.json")));
        Assert.False(Directory.Exists(Path.Combine(_rt.Root, "containers")));
        Assert.False(Directory.Exists(Path.Combine(_rt.Root, "sandboxes")));
        Assert.True(Directory.Exists(_rt.Snapshotter.WritableLayerPath(id)));

        _rt.Restart();
        var status = _rt.Runtime.ContainerStatus(id)!;
        Assert.Equal(ContainerState.Running, status.State);
        Assert.Equal(sandbox, Assert.Single(_rt.Runtime.ListPodSandboxes()).Id);
        Assert.True(Directory.Exists(_rt.Snapshotter.WritableLayerPath(id)), "a restart on the same state kept the container's writable layer");
    }

    [PrivilegedFact]
    public async Task WritableLayersOfABootGoneAreRemovedWhenTheStateDirectoryIsNew()
    {
        var (_, id) = await _rt.StartAsync("before-reboot", RuntimeFixture.Container("main", "sleep", "300"));
        var layer = _rt.Snapshotter.WritableLayerPath(id);
        var status = _rt.Runtime.ContainerStatus(id)!;
        var exited = _rt.Runtime.WaitContainerAsync(id, CancellationToken.None);
        ProcessControl.Kill(status.Pid, 9);
        await exited.WaitAsync(TimeSpan.FromSeconds(30));
        _rt.Runtime.Dispose();

        // What a reboot does to the volatile state: its mounts and the directory (tmpfs) are gone; the root stays.
        foreach (var mount in Mounts.ListUnder(_rt.State))
        {
            Mounts.Unmount(mount, detach: true);
        }

        Directory.Delete(_rt.State, recursive: true);
        Assert.True(Directory.Exists(layer));

        _rt.Restart();
        Assert.Empty(_rt.Runtime.ListContainers());
        Assert.Empty(_rt.Runtime.ListPodSandboxes());
        Assert.False(Directory.Exists(layer), "the writable layer of a container of an earlier boot stayed on the root");
        Assert.Empty(_rt.Snapshotter.ContainerKeys());
    }

    [PrivilegedFact]
    public async Task AWritableLayerAnOverlayStillUsesIsKeptWhenTheStateDirectoryChanges()
    {
        // An operator pointing --runtime-state-dir somewhere new under running containers: their layers stay.
        var (_, id) = await _rt.StartAsync("still-running", RuntimeFixture.Container("main", "sleep", "300"));
        using (var other = new TempDir("nodeagent-other-state"))
        using (new LinuxRuntimeService(new RuntimeOptions { RootDir = _rt.Root, StateDir = other.Combine("state"), ShimPath = RepoPaths.ShimPath }, _rt.Images, _rt.Snapshotter, _rt.Cgroups))
        {
            Assert.True(Directory.Exists(_rt.Snapshotter.WritableLayerPath(id)));
        }

        Assert.Equal(ContainerState.Running, _rt.Runtime.ContainerStatus(id)!.State);
    }

    public void Dispose() => _rt.Dispose();
}
