using k8s.Models;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>
/// kubelet's pod workers against the real runtime: a pod runs, resyncs on container events, survives any error of
/// a sync or a kill (injected through a runtime decorator), is killed with a saturated grace period that a shorter
/// one cuts short, and leaves nothing behind (sandbox, emptyDir, log directory) when removed.
/// </summary>
public sealed class PodWorkersTests : IAsyncLifetime
{
    private readonly PodHarness _h = new();

    [PrivilegedFact]
    public async Task APodIsStartedThenRemovedWithItsSandboxVolumesAndLogDirectory()
    {
        var pod = PodHarness.Pod("worker-run", "Always", 1, "sh", "-c", "echo hi > /data/x; exec sleep 300");
        pod.Spec.Volumes = [new V1Volume { Name = "data", EmptyDir = new V1EmptyDirVolumeSource() }];
        pod.Spec.Containers[0].VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = "/data" }];
        var running = _h.StatusWhere(pod, s => s.Phase == "Running");
        _h.Workers.UpdatePod(pod);
        var status = await running;
        Assert.NotNull(status.ContainerStatuses.Single().State.Running);
        Assert.Single(_h.Statuses.List());
        Assert.True(Directory.Exists(_h.LogDirectory(pod)));
        Assert.True(Directory.Exists(_h.Volumes.PodDirectory(pod.Metadata.Uid)));

        _h.Workers.RemovePod(pod.Metadata.Uid);
        await _h.Workers.Terminated(pod.Metadata.Uid).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Null(_h.Statuses.Get(pod.Metadata.Uid));
        Assert.Null(_h.Syncer.View(pod).Sandbox);
        Assert.Empty(_h.Rt.Runtime.ListPodSandboxes());
        Assert.False(Directory.Exists(_h.Volumes.PodDirectory(pod.Metadata.Uid)), "emptyDir left behind");
        Assert.False(Directory.Exists(_h.LogDirectory(pod)), "log directory left behind");
    }

    [PrivilegedFact]
    public async Task AContainerExitNotifiedByTheRuntimeIsSyncedIntoTheStatus()
    {
        var pod = PodHarness.Pod("worker-once", "Never", 1, "sh", "-c", "exit 3");
        var failed = _h.StatusWhere(pod, s => s.Phase == "Failed");
        using var stop = new CancellationTokenSource();
        using var events = _h.Rt.Runtime.SubscribeEvents();
        var router = Task.Run(async () =>
        {
            // The exit arrives as a runtime event; the worker resyncs the pod it belongs to.
            await foreach (var e in events.Reader.ReadAllAsync(stop.Token))
            {
                if (_h.Rt.Runtime.ContainerStatus(e.ContainerId)?.Labels.GetValueOrDefault(ContainerConfigFactory.PodUidLabel) is { } uid)
                {
                    _h.Workers.Notify(uid);
                }
            }
        });
        _h.Workers.UpdatePod(pod);

        var status = await failed;
        Assert.Equal(3, status.ContainerStatuses.Single().State.Terminated.ExitCode);
        Assert.Equal("Error", status.ContainerStatuses.Single().State.Terminated.Reason);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => router);
    }

    [PrivilegedFact]
    public async Task AWorkerSurvivesAnyExceptionOfASyncReportsItAndRunsThePodOnceTheFaultClears()
    {
        _h.Faulty.Fault = call => call == "RunPodSandbox" ? new InvalidOperationException("injected sandbox fault") : null;
        var pod = PodHarness.Pod("worker-fault", "Always", 1, "sleep", "300");
        var reported = _h.StatusWhere(pod, s => s.ContainerStatuses?.SingleOrDefault()?.State?.Waiting?.Message?.Contains("injected sandbox fault") == true);
        _h.Workers.UpdatePod(pod);

        var status = await reported;
        var waiting = status.ContainerStatuses.Single().State.Waiting;
        Assert.Equal("ContainerCreating", waiting.Reason);
        Assert.Equal("Error syncing pod: InvalidOperationException: injected sandbox fault", waiting.Message);
        Assert.Equal("Pending", status.Phase);
        await _h.Events.Next(pod.Metadata.Uid, "FailedSync");
        Assert.Contains(_h.Events.All, e => e.Reason == "FailedSync" && e.Message.Contains("InvalidOperationException: injected sandbox fault"));
        Assert.Equal(1, _h.Workers.Count);
        var loop = _h.Health.Loops.Single(l => l.Name.StartsWith("pod worker worker-fault_default", StringComparison.Ordinal));
        Assert.Equal(LoopState.Running, loop.State);
        Assert.Contains("injected sandbox fault", loop.LastError);
        Assert.True(_h.Health.IsHealthy);

        // The worker retries after its backoff; once the fault is gone the pod runs.
        var running = _h.StatusWhere(pod, s => s.Phase == "Running");
        _h.Faulty.Fault = _ => null;
        Assert.NotNull((await running).ContainerStatuses.Single().State.Running);
        Assert.True(_h.Faulty.Faults >= 1);
    }

    [PrivilegedFact]
    public async Task AKillThatThrowsIsRetriedUntilThePodIsGone()
    {
        var pod = PodHarness.Pod("worker-killfault", "Always", 1, "sleep", "300");
        var running = _h.StatusWhere(pod, s => s.Phase == "Running");
        _h.Workers.UpdatePod(pod);
        await running;

        var remaining = 2;
        _h.Faulty.Fault = call => call == "StopContainer" && Interlocked.Decrement(ref remaining) >= 0 ? new NullReferenceException("injected stop fault") : null;
        _h.Workers.RemovePod(pod.Metadata.Uid);
        await _h.Workers.Terminated(pod.Metadata.Uid).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, _h.Faulty.Faults);
        Assert.Equal(2, _h.Events.All.Count(e => e.Reason == "FailedKillPod" && e.Message.Contains("NullReferenceException: injected stop fault")));
        Assert.Empty(_h.Rt.Runtime.ListPodSandboxes());
        Assert.Null(_h.Statuses.Get(pod.Metadata.Uid));
        Assert.Equal(0, _h.Health.Count);
    }

    [PrivilegedFact]
    public async Task AKillWithAGracePeriodOfTenYearsDoesNotThrowAndAShorterGraceCutsItShort()
    {
        // sleep is PID 1 of its container: it ignores SIGTERM, so the kill waits for the whole grace period.
        var pod = PodHarness.Pod("worker-longgrace", "Always", 315360000, "sleep", "300");
        var running = _h.StatusWhere(pod, s => s.Phase == "Running");
        _h.Workers.UpdatePod(pod);
        await running;

        var killing = _h.Events.Next(pod.Metadata.Uid, "Killing");
        _h.Workers.RemovePod(pod.Metadata.Uid);
        await killing;
        Assert.Equal(LoopState.Running, _h.Health.Loops.Single().State);

        // A deletion with a shorter grace period replaces the running kill, as kubelet's pod workers do.
        _h.Workers.RemovePod(pod.Metadata.Uid, TimeSpan.FromSeconds(1));
        await _h.Workers.Terminated(pod.Metadata.Uid).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Empty(_h.Rt.Runtime.ListPodSandboxes());
        Assert.DoesNotContain(_h.Events.All, e => e.Reason is "FailedKillPod" or "FailedSync");
    }

    [PrivilegedFact]
    public async Task APodAddedAgainWhileTerminatingStartsAfreshOnceTheOldOneIsGone()
    {
        // Grace 2 s and a container that ignores SIGTERM: the re-add lands in the middle of the termination.
        var pod = PodHarness.Pod("worker-readd", "Always", 2, "sleep", "300");
        var running = _h.StatusWhere(pod, s => s.Phase == "Running");
        _h.Workers.UpdatePod(pod);
        var started = (await running).StartTime;
        var oldSandbox = _h.Syncer.View(pod).Sandbox!.Id;

        var killing = _h.Events.Next(pod.Metadata.Uid, "Killing");
        _h.Workers.RemovePod(pod.Metadata.Uid);
        await killing;
        _h.Workers.UpdatePod(pod);

        // The new incarnation started with its new sandbox (unread changes coalesce, so the removal in between
        // may not be seen by a slow reader; the start time tells the incarnations apart).
        var again = await _h.StatusWhere(pod, s => s.Phase == "Running" && s.StartTime > started);
        Assert.NotNull(again.ContainerStatuses.Single().State.Running);
        var view = _h.Syncer.View(pod);
        Assert.NotEqual(oldSandbox, view.Sandbox!.Id);
        Assert.Single(_h.Rt.Runtime.ListPodSandboxes());
        Assert.Equal(ContainerState.Running, view.Containers.Single().State);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // xunit 2 calls IAsyncLifetime, not IAsyncDisposable: without it the fixture would never be cleaned up.
    public async Task DisposeAsync() => await _h.DisposeAsync();
}
