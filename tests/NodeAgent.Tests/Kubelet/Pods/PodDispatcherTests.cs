using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>
/// kubelet's config-update loop end to end (pod config → dispatcher → workers → real runtime): orphan cleanup only
/// after every source's first snapshot, host port admission, a pod re-added while terminating, and no per-pod state
/// left after churn.
/// </summary>
public sealed class PodDispatcherTests : IAsyncLifetime
{
    // Exits at once on SIGTERM (sh traps it; "ready" once the trap is set), so orphans with absurd grace labels
    // stop quickly.
    private static readonly string[] TermAware = ["sh", "-c", "trap 'exit 0' TERM; echo ready; while true; do sleep 1 & wait; done"];

    private readonly PodHarness _h = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    private PodDispatcher Start(PodConfig config, int maxPods = 110)
    {
        var orphans = new OrphanPodKiller(_h.Faulty, NullLogger<OrphanPodKiller>.Instance, _h.Volumes, _h.Rt.Logs, _h.Health);
        var dispatcher = new PodDispatcher(config, _h.Workers, _h.Statuses, new PodAdmission(maxPods), _h.Events, orphans,
            TimeProvider.System, NullLogger<PodDispatcher>.Instance, _h.Health);
        _loops.Add(config.RunAsync(_stop.Token));
        _loops.Add(dispatcher.RunAsync(_stop.Token));
        return dispatcher;
    }

    private static PodConfig Config(params string[] sources) => new(sources, NullLogger<PodConfig>.Instance, TimeProvider.System);

    private static V1Pod WithHostPort(V1Pod pod, int port, string protocol = "TCP")
    {
        pod.Spec.Containers[0].Ports = [new V1ContainerPort { ContainerPort = 80, HostPort = port, Protocol = protocol }];
        return pod;
    }

    [PrivilegedFact]
    public async Task OrphanCleanupWaitsForEverySourcesFirstSnapshotAndSurvivesHostileGraceLabels()
    {
        // Before the "restart": the http pod runs, and two pods nobody wants any more are left over, one with a
        // grace label of long.MaxValue (an old agent accepted it) and one with garbage.
        var httpPod = PodHarness.Pod("from-url", "Always", 1, "sleep", "300");
        await _h.Syncer.SyncAsync(httpPod, CancellationToken.None);
        var httpContainer = _h.Syncer.View(httpPod).Containers.Single().Id;
        var huge = PodHarness.Pod("orphan-huge", "Always", long.MaxValue, TermAware);
        await _h.Syncer.SyncAsync(huge, CancellationToken.None);
        Assert.Equal("9223372036854775807", _h.Syncer.View(huge).Containers.Single().Labels[ContainerConfigFactory.GracePeriodLabel]);
        var garbageSandbox = _h.Rt.Pod("orphan-garbage");
        garbageSandbox = garbageSandbox with { Labels = new Dictionary<string, string> { [ContainerConfigFactory.PodUidLabel] = garbageSandbox.Uid } };
        var garbageId = await _h.Rt.Runtime.RunPodSandboxAsync(garbageSandbox, CancellationToken.None);
        var c = await _h.Rt.Runtime.CreateContainerAsync(garbageId, RuntimeFixture.Container("main", TermAware) with
        {
            Labels = new Dictionary<string, string> { [ContainerConfigFactory.GracePeriodLabel] = "garbage", [ContainerConfigFactory.PodUidLabel] = garbageSandbox.Uid },
        }, CancellationToken.None);
        await _h.Rt.Runtime.StartContainerAsync(c, CancellationToken.None);
        // A SIGTERM before the trap is set would be ignored by the container's PID 1 for the whole grace period.
        await WaitForLogAsync(_h.Syncer.View(huge).Containers.Single().Id, "ready");
        await WaitForLogAsync(c, "ready");

        // After it: the file source delivers first, the http source later.
        var config = Config(PodSourceNames.File, PodSourceNames.Http);
        var dispatcher = Start(config);
        var filePod = PodHarness.Pod("from-file", "Always", 1, "sleep", "300");
        await config.Input.WriteAsync(new PodSourceUpdate(PodSourceNames.File, [filePod]));
        var httpRunning = _h.StatusWhere(httpPod, s => s.Phase == "Running");
        await config.Input.WriteAsync(new PodSourceUpdate(PodSourceNames.Http, [httpPod]));

        await dispatcher.OrphanCleanup.WaitAsync(TimeSpan.FromSeconds(60));
        await httpRunning;
        Assert.Equal(httpContainer, _h.Syncer.View(httpPod).Containers.Single().Id);
        Assert.Equal(ContainerState.Running, _h.Rt.Runtime.ContainerStatus(httpContainer)!.State);
        var left = _h.Rt.Runtime.ListPodSandboxes().Select(s => s.Config.Name).Order().ToList();
        Assert.Equal(["from-file", "from-url"], left);
        Assert.False(Directory.Exists(_h.LogDirectory(huge)), "the orphan's log directory is left");
        Assert.True(_h.Health.IsHealthy);
    }

    [PrivilegedFact]
    public async Task ASecondPodWithTheSameHostPortIsRejectedAtAdmission()
    {
        var config = Config(PodSourceNames.File);
        Start(config);
        var first = WithHostPort(PodHarness.Pod("port-a", "Always", 1, "sleep", "300"), 18080);
        var second = WithHostPort(PodHarness.Pod("port-b", "Always", 1, "sleep", "300"), 18080);
        var udp = WithHostPort(PodHarness.Pod("port-c", "Always", 1, "sleep", "300"), 18080, "UDP");
        var running = _h.StatusWhere(first, s => s.Phase == "Running");
        var rejected = _h.StatusWhere(second, s => s.Phase == "Failed");
        var udpRunning = _h.StatusWhere(udp, s => s.Phase == "Running");
        await config.Input.WriteAsync(new PodSourceUpdate(PodSourceNames.File, [first, second, udp]));

        var status = await rejected;
        Assert.Equal("NodePorts", status.Reason);
        Assert.Equal("Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports", status.Message);
        await running;
        await udpRunning;
        Assert.Contains(_h.Events.All, e => e.Uid == second.Metadata.Uid && e.Reason == "NodePorts");
        Assert.Equal(["port-a", "port-c"], _h.Rt.Runtime.ListPodSandboxes().Select(s => s.Config.Name).Order());
    }

    [PrivilegedFact]
    public async Task AManifestRemovedAndPutBackWithinItsGracePeriodEndsRunningInANewSandbox()
    {
        var config = Config(PodSourceNames.File);
        Start(config);
        var pod = PodHarness.Pod("readd", "Always", 2, "sleep", "300");
        var running = _h.StatusWhere(pod, s => s.Phase == "Running");
        await config.Input.WriteAsync(new PodSourceUpdate(PodSourceNames.File, [pod]));
        var started = (await running).StartTime;
        var oldSandbox = _h.Syncer.View(pod).Sandbox!.Id;

        var killing = _h.Events.Next(pod.Metadata.Uid, "Killing");
        await config.Input.WriteAsync(new PodSourceUpdate(PodSourceNames.File, []));
        await killing;
        await config.Input.WriteAsync(new PodSourceUpdate(PodSourceNames.File, [pod]));

        // The new incarnation started with its new sandbox (unread changes coalesce, so the removal in between
        // may not be seen by a slow reader; the start time tells the incarnations apart).
        var again = await _h.StatusWhere(pod, s => s.Phase == "Running" && s.StartTime > started);
        Assert.NotNull(again.ContainerStatuses.Single().State.Running);
        var sandbox = Assert.Single(_h.Rt.Runtime.ListPodSandboxes());
        Assert.NotEqual(oldSandbox, sandbox.Id);
        Assert.Equal(sandbox.Id, _h.Syncer.View(pod).Sandbox!.Id);
    }

    [PrivilegedFact]
    public async Task APodThatBreaksItsSyncStopsNothingButItself()
    {
        var config = Config(PodSourceNames.File);
        Start(config);
        var broken = PodHarness.Pod("broken", "Always", 1, "true");
        broken.Spec = null;
        var good = PodHarness.Pod("good", "Always", 1, "sleep", "300");
        var running = _h.StatusWhere(good, s => s.Phase == "Running");
        await config.Input.WriteAsync(new PodSourceUpdate(PodSourceNames.File, [broken, good]));
        await running;
        await _h.Events.Next(broken.Metadata.Uid, "FailedSync");

        // The dispatcher and the other workers carry on: a pod added later runs too, and the node stays healthy.
        var later = PodHarness.Pod("later", "Always", 1, "sleep", "300");
        var laterRunning = _h.StatusWhere(later, s => s.Phase == "Running");
        await config.Input.WriteAsync(new PodSourceUpdate(PodSourceNames.File, [broken, good, later]));
        await laterRunning;
        Assert.True(_h.Health.IsHealthy);
        Assert.Equal(LoopState.Running, _h.Health.Get(PodDispatcher.LoopName)!.State);
        Assert.Contains("NullReferenceException", _h.Health.Loops.Single(l => l.Name.Contains("broken", StringComparison.Ordinal)).LastError);

        // Removing it works as for any pod.
        var gone = _h.Workers.Terminated(broken.Metadata.Uid);
        await config.Input.WriteAsync(new PodSourceUpdate(PodSourceNames.File, [good, later]));
        await gone.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, _h.Workers.Count);
    }

    [PrivilegedFact]
    public async Task NoPerPodStateIsLeftAfterPodsAreAddedAndRemoved()
    {
        var config = Config(PodSourceNames.File);
        var dispatcher = Start(config);
        var router = new RuntimeEventRouter(_h.Rt.Runtime, _h.Workers, NullLogger<RuntimeEventRouter>.Instance);
        _loops.Add(router.RunAsync(_stop.Token));
        var sleepers = Enumerable.Range(0, 3).Select(i => PodHarness.Pod($"churn-{i}", "Always", 1, "sleep", "300")).ToList();
        var crasher = PodHarness.Pod("churn-crash", "Always", 1, "sh", "-c", "exit 1");
        var noImage = PodHarness.Pod("churn-noimage", "Always", 1, "true");
        noImage.Spec.Containers[0].Image = "localhost/absent:1";
        noImage.Spec.Containers[0].ImagePullPolicy = "IfNotPresent";
        var all = sleepers.Append(crasher).Append(noImage).ToList();
        var ready = sleepers.Select(p => _h.StatusWhere(p, s => s.Phase == "Running"))
            .Append(_h.StatusWhere(crasher, s => s.ContainerStatuses?.Single().RestartCount >= 1))
            .Append(_h.StatusWhere(noImage, s => s.ContainerStatuses?.Single().State?.Waiting?.Reason == "ErrImagePull"))
            .ToList();
        await config.Input.WriteAsync(new PodSourceUpdate(PodSourceNames.File, all));
        await Task.WhenAll(ready);
        Assert.True(_h.Backoff.Count > 0);
        Assert.True(_h.Images.BackoffCount > 0);
        Assert.Equal(all.Count, _h.Events.Log.PodCount);
        var terminated = all.Select(p => _h.Workers.Terminated(p.Metadata.Uid)).ToList();

        await config.Input.WriteAsync(new PodSourceUpdate(PodSourceNames.File, []));
        await Task.WhenAll(terminated).WaitAsync(TimeSpan.FromSeconds(60));
        await dispatcher.OrphanCleanup.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, _h.Workers.Count);
        Assert.Equal(0, dispatcher.Count);
        Assert.Equal(0, _h.Statuses.Count);
        Assert.Equal(0, _h.Events.Log.PodCount);
        Assert.Equal(0, _h.Backoff.Count);
        Assert.Equal(0, _h.Images.BackoffCount);
        Assert.Equal([PodDispatcher.LoopName], _h.Health.Loops.Select(l => l.Name));
        Assert.Empty(_h.Rt.Runtime.ListPodSandboxes());
        Assert.Empty(Directory.GetDirectories(_h.Rt.Logs));
    }

    private async Task WaitForLogAsync(string containerId, string line)
    {
        var path = _h.Rt.Runtime.ContainerStatus(containerId)!.LogPath;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (var entry in new NodeAgent.Logs.CriLogReader(path).ReadAsync(new NodeAgent.Logs.CriLogReadOptions { Follow = true }, timeout.Token))
        {
            if (entry.Content == line)
            {
                return;
            }
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (OperationCanceledException)
        {
            // The loops end with the cancellation.
        }
        finally
        {
            await _h.DisposeAsync();
            _stop.Dispose();
        }
    }
}
