using NodeAgent.Cgroups;
using NodeAgent.Linux;
using NodeAgent.Cri;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime;

/// <summary>The runtime end to end on the real kernel: sandboxes, containers, limits, stop, events.</summary>
public sealed class RuntimeServiceTests : IDisposable
{
    private readonly RuntimeFixture _rt = new();

    [PrivilegedFact]
    public async Task ContainerRunsToCompletionWithItsOutputInTheCriLog()
    {
        var (_, id) = await _rt.StartAsync("hello", RuntimeFixture.Container("main", "sh", "-c", "echo hello; echo oops >&2"));
        var status = await _rt.WaitAsync(id);
        Assert.Equal(ContainerState.Exited, status.State);
        Assert.Equal(0, status.ExitCode);
        Assert.Equal("Completed", status.Reason);
        Assert.Equal(["hello"], _rt.Stdout(id));
        Assert.StartsWith(Path.Combine(_rt.Logs, "hello"), status.LogPath);
        Assert.Equal("localhost/busybox:latest", status.Image);
        Assert.StartsWith("sha256:", status.ImageId);
    }

    [PrivilegedFact]
    public async Task NonZeroExitIsError()
    {
        var (_, id) = await _rt.StartAsync("fail", RuntimeFixture.Container("main", "sh", "-c", "exit 3"));
        var status = await _rt.WaitAsync(id);
        Assert.Equal((3, "Error"), (status.ExitCode, status.Reason));
    }

    [PrivilegedFact]
    public async Task ExitsArePushedAsEvents()
    {
        using var events = _rt.Runtime.SubscribeEvents();
        var (_, id) = await _rt.StartAsync("events", RuntimeFixture.Container("main", "true"));
        var seen = new List<ContainerEventType>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (var e in events.Reader.ReadAllAsync(timeout.Token))
        {
            if (e.ContainerId == id)
            {
                seen.Add(e.Type);
                if (e.Type == ContainerEventType.Exited)
                {
                    break;
                }
            }
        }

        Assert.Equal([ContainerEventType.Started, ContainerEventType.Exited], seen);
    }

    [PrivilegedFact]
    public async Task ContainersOfAPodShareNetworkIpcAndUtsButNotPid()
    {
        var sandbox = await _rt.Runtime.RunPodSandboxAsync(_rt.Pod("shared"), CancellationToken.None);
        var other = await _rt.Runtime.RunPodSandboxAsync(_rt.Pod("other"), CancellationToken.None);
        const string script = "for ns in net ipc uts; do readlink /proc/self/ns/$ns; done; echo $$; hostname"; // the runtime runs commands as given: no $(VAR) expansion
        var a = await Run(sandbox, "a", script);
        var b = await Run(sandbox, "b", script);
        var c = await Run(other, "c", script);
        Assert.Equal(a.Take(3), b.Take(3));

        // Each container is PID 1 of a PID namespace of its own.
        Assert.Equal(("1", "1"), (a[3], b[3]));
        Assert.NotEqual(a[0], c[0]);
        Assert.Equal("shared", a[4]);
        Assert.Equal("other", c[4]);
    }

    [PrivilegedFact]
    public async Task ShareProcessNamespaceLetsContainersSeeEachOther()
    {
        var sandbox = await _rt.Runtime.RunPodSandboxAsync(_rt.Pod("sharepid", sharePid: true), CancellationToken.None);
        var sleeper = await _rt.Runtime.CreateContainerAsync(sandbox, RuntimeFixture.Container("sleeper", "sleep", "300"), CancellationToken.None);
        await _rt.Runtime.StartContainerAsync(sleeper, CancellationToken.None);
        var lines = await Run(sandbox, "looker", "ps -o pid,args | grep -c '[s]leep 300'; cat /proc/1/cmdline | tr '\\0' ' '");
        Assert.Equal("1", lines[0]);
        Assert.Contains("pause", lines[1]);
        await _rt.Runtime.StopContainerAsync(sleeper, TimeSpan.Zero, CancellationToken.None);
    }

    [PrivilegedFact]
    public async Task StopSendsSigtermThenSigkillAfterTheGracePeriod()
    {
        // PID 1 without a TERM handler ignores SIGTERM: only the SIGKILL after the grace period ends it.
        var (_, stubborn) = await _rt.StartAsync("stubborn", RuntimeFixture.Container("main", "sleep", "300"));
        var started = DateTimeOffset.UtcNow;
        await _rt.Runtime.StopContainerAsync(stubborn, TimeSpan.FromSeconds(1), CancellationToken.None);
        var status = _rt.Runtime.ContainerStatus(stubborn)!;
        Assert.Equal(137, status.ExitCode);
        // Wall clock against the runtime's monotonic timer: allow a few milliseconds of skew.
        Assert.True(status.FinishedAt - started >= TimeSpan.FromMilliseconds(950), $"SIGKILL came {status.FinishedAt - started} after the stop, before the 1 s grace period ended");

        // A process that handles SIGTERM exits with its own code.
        var (_, polite) = await _rt.StartAsync("polite", RuntimeFixture.Container("main", "sh", "-c", "trap 'exit 7' TERM; echo ready; while true; do sleep 1; done"));
        await WaitForLog(polite, "ready");
        await _rt.Runtime.StopContainerAsync(polite, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(7, _rt.Runtime.ContainerStatus(polite)!.ExitCode);
    }

    [PrivilegedFact]
    public async Task MemoryLimitOverrunIsOomKilled()
    {
        var config = RuntimeFixture.Container("hog", "sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\000' a); echo survived") with
        {
            Resources = new LinuxContainerResources { MemoryLimitBytes = 32 * 1024 * 1024 },
        };
        var (_, id) = await _rt.StartAsync("oom", config);
        var status = await _rt.WaitAsync(id);
        Assert.Equal("OOMKilled", status.Reason);
        Assert.Equal(137, status.ExitCode);
    }

    [PrivilegedFact]
    public async Task PidsLimitStopsForkBombs()
    {
        var config = RuntimeFixture.Container("forker", "sh", "-c", "for i in $(seq 1 30); do sleep 60 & done; echo all-forked") with
        {
            Resources = new LinuxContainerResources { PidsLimit = 10 },
        };
        var (_, id) = await _rt.StartAsync("pids", config);
        var status = await _rt.WaitAsync(id);
        Assert.DoesNotContain("all-forked", _rt.Stdout(id));
        Assert.Contains(_rt.Stderr(id), l => l.Contains("can't fork") || l.Contains("Resource temporarily unavailable"));
        Assert.NotEqual(0, status.ExitCode);
    }

    [PrivilegedFact]
    public async Task HostBlockDevicesCannotBeOpenedEvenAfterMknod()
    {
        // CAP_MKNOD is in the default set; the device cgroup is what keeps the host's disks out of reach.
        var script = "mknod /tmp/disk b 7 0 && echo made; head -c1 /tmp/disk >/dev/null 2>&1 && echo read || echo denied; echo x > /dev/null && echo null-ok";
        var (_, id) = await _rt.StartAsync("devices", RuntimeFixture.Container("main", "sh", "-c", script));
        await _rt.WaitAsync(id);
        Assert.Equal(["made", "denied", "null-ok"], _rt.Stdout(id));
    }

    [PrivilegedFact]
    public async Task UnknownImageFailsCreateAndLeavesNothing()
    {
        var sandbox = await _rt.Runtime.RunPodSandboxAsync(_rt.Pod("noimage"), CancellationToken.None);
        var ex = await Assert.ThrowsAsync<RuntimeException>(() =>
            _rt.Runtime.CreateContainerAsync(sandbox, RuntimeFixture.Container("main", "true") with { Image = "localhost/nope:1" }, CancellationToken.None));
        Assert.Equal(RuntimeErrorKind.NotFound, ex.Kind);
        Assert.Contains("localhost/nope:1", ex.Message);
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(_rt.Root, "containers")));
    }

    [PrivilegedFact]
    public async Task CommandNotFoundIsAStartErrorWithTheReason()
    {
        var sandbox = await _rt.Runtime.RunPodSandboxAsync(_rt.Pod("nocmd"), CancellationToken.None);
        var id = await _rt.Runtime.CreateContainerAsync(sandbox, RuntimeFixture.Container("main", "no-such-binary"), CancellationToken.None);
        var ex = await Assert.ThrowsAsync<RuntimeException>(() => _rt.Runtime.StartContainerAsync(id, CancellationToken.None));
        Assert.Equal(RuntimeErrorKind.StartError, ex.Kind);
        Assert.Contains("executable file not found", ex.Message);
        var status = _rt.Runtime.ContainerStatus(id)!;
        Assert.Equal(("StartError", 128), (status.Reason, status.ExitCode));
    }

    [PrivilegedFact]
    public async Task RemoveLeavesNoMountsCgroupsOrFiles()
    {
        var config = RuntimeFixture.Container("main", "true") with { Resources = new LinuxContainerResources { MemoryLimitBytes = 64 << 20 } };
        var (sandbox, id) = await _rt.StartAsync("cleanup", config);
        await _rt.WaitAsync(id);
        var cgroupPath = $"kubepods/besteffort/podcleanup/{id}";
        Assert.NotNull(_rt.Cgroups.Open(cgroupPath));
        await _rt.Runtime.RemoveContainerAsync(id, CancellationToken.None);
        await _rt.Runtime.RemovePodSandboxAsync(sandbox, CancellationToken.None);
        Assert.Null(_rt.Cgroups.Open(cgroupPath));
        Assert.Null(_rt.Cgroups.Open("kubepods/besteffort/podcleanup"));
        Assert.Empty(Mounts.ListUnder(_rt.Root));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_rt.Root, "containers")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_rt.Root, "sandboxes")));
    }

    private async Task<IReadOnlyList<string>> Run(string sandbox, string name, string script)
    {
        var id = await _rt.Runtime.CreateContainerAsync(sandbox, RuntimeFixture.Container(name, "sh", "-c", script), CancellationToken.None);
        await _rt.Runtime.StartContainerAsync(id, CancellationToken.None);
        var status = await _rt.WaitAsync(id);
        Assert.Equal(0, status.ExitCode);
        return _rt.Stdout(id);
    }

    private async Task WaitForLog(string id, string line)
    {
        var path = _rt.Runtime.ContainerStatus(id)!.LogPath;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (var entry in new NodeAgent.Logs.CriLogReader(path).ReadAsync(new NodeAgent.Logs.CriLogReadOptions { Follow = true }, timeout.Token))
        {
            if (entry.Content == line)
            {
                return;
            }
        }
    }

    public void Dispose() => _rt.Dispose();
}
