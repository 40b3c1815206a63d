using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Kubelet.Events;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Cri;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>kubelet's SyncPod against the real runtime: start, restart policy, crash-loop backoff, missing images.</summary>
public sealed class PodSyncerTests : IDisposable
{
    private readonly RuntimeFixture _rt = new();
    private readonly PodEventLog _events = new(NullLogger<PodEventLog>.Instance, TimeProvider.System);
    private readonly PodSyncer _syncer;

    public PodSyncerTests()
    {
        _syncer = new PodSyncer(_rt.Runtime, _rt.ImageService, new ContainerBackoff(TimeProvider.System), _events,
            new PodSandboxFactory(_rt.Logs), TimeProvider.System, NullLogger<PodSyncer>.Instance);
    }

    private static V1Pod Pod(string name, string restartPolicy, string image, params string[] command) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = Guid.NewGuid().ToString() },
        Spec = new V1PodSpec
        {
            RestartPolicy = restartPolicy,
            TerminationGracePeriodSeconds = 1,
            Containers = [new V1Container { Name = "main", Image = image, ImagePullPolicy = "Never", Command = command }],
        },
    };

    private V1PodStatus Status(V1Pod pod, PodSyncResult result) =>
        PodStatusBuilder.Build(pod, _syncer.View(pod), result.Waiting, "127.0.0.1", DateTime.UtcNow, DateTime.UtcNow);

    private async Task WaitExited(V1Pod pod)
    {
        var latest = _syncer.View(pod).Attempts("main").First();
        await _rt.Runtime.WaitContainerAsync(latest.Id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [PrivilegedFact]
    public async Task StartsThePodAndReportsItRunning()
    {
        var pod = Pod("web", "Always", "localhost/busybox:latest", "sleep", "300");
        var status = Status(pod, await _syncer.SyncAsync(pod, CancellationToken.None));
        Assert.Equal("Running", status.Phase);
        Assert.NotNull(status.ContainerStatuses.Single().State.Running);
        Assert.Equal(["Pulled", "Created", "Started"], _events.For(pod.Metadata.Uid).Select(e => e.Reason));
        Assert.Equal("BestEffort", status.QosClass);

        // A second sync of an unchanged, running pod does nothing.
        await _syncer.SyncAsync(pod, CancellationToken.None);
        Assert.Single(_syncer.View(pod).Containers);
        await _syncer.KillPodAsync(pod, TimeSpan.FromSeconds(1), CancellationToken.None);
        Assert.Null(_syncer.View(pod).Sandbox);
    }

    [PrivilegedFact]
    public async Task FailingContainerIsRestartedThenBacksOff()
    {
        var pod = Pod("crasher", "Always", "localhost/busybox:latest", "sh", "-c", "exit 1");
        await _syncer.SyncAsync(pod, CancellationToken.None);
        await WaitExited(pod);

        // First restart is immediate.
        await _syncer.SyncAsync(pod, CancellationToken.None);
        Assert.Equal(1u, _syncer.View(pod).Attempts("main").First().Attempt);
        await WaitExited(pod);

        // The second failure is within the 10 s backoff: CrashLoopBackOff.
        var result = await _syncer.SyncAsync(pod, CancellationToken.None);
        var status = Status(pod, result);
        var cs = status.ContainerStatuses.Single();
        Assert.Equal("CrashLoopBackOff", cs.State.Waiting.Reason);
        Assert.Contains("back-off 10s restarting failed container=main", cs.State.Waiting.Message);
        Assert.Equal(1, cs.LastState.Terminated.ExitCode);
        Assert.Equal(1, cs.RestartCount);
        Assert.NotNull(result.RetryAfter);
        Assert.True(result.RetryAfter <= TimeSpan.FromSeconds(10));
        Assert.Contains(_events.For(pod.Metadata.Uid), e => e.Reason == "BackOff" && e.Type == "Warning");
    }

    [PrivilegedFact]
    public async Task NeverRestartPolicyLeavesASucceededPod()
    {
        var pod = Pod("once", "Never", "localhost/busybox:latest", "true");
        await _syncer.SyncAsync(pod, CancellationToken.None);
        await WaitExited(pod);
        var status = Status(pod, await _syncer.SyncAsync(pod, CancellationToken.None));
        Assert.Equal("Succeeded", status.Phase);
        Assert.Single(_syncer.View(pod).Containers);
        Assert.Equal("Completed", status.ContainerStatuses.Single().State.Terminated.Reason);
    }

    [PrivilegedFact]
    public async Task MissingImageWithPullPolicyNeverIsErrImageNeverPull()
    {
        var pod = Pod("noimage", "Always", "localhost/absent:1", "true");
        var status = Status(pod, await _syncer.SyncAsync(pod, CancellationToken.None));
        var waiting = status.ContainerStatuses.Single().State.Waiting;
        Assert.Equal("ErrImageNeverPull", waiting.Reason);
        Assert.Equal("Container image \"localhost/absent:1\" is not present with pull policy of Never", waiting.Message);
        Assert.Equal("Pending", status.Phase);
        Assert.Empty(_syncer.View(pod).Containers);
    }

    [PrivilegedFact]
    public async Task ChangedContainerSpecReplacesTheRunningContainer()
    {
        var pod = Pod("changing", "Always", "localhost/busybox:latest", "sleep", "300");
        await _syncer.SyncAsync(pod, CancellationToken.None);
        var first = _syncer.View(pod).Attempts("main").Single();
        pod.Spec.Containers[0].Command = ["sleep", "301"];
        await _syncer.SyncAsync(pod, CancellationToken.None);
        var attempts = _syncer.View(pod).Attempts("main");
        Assert.Equal(ContainerState.Running, attempts[0].State);
        Assert.NotEqual(first.Id, attempts[0].Id);
        Assert.Equal(["sleep", "301"], attempts[0].Command);
        Assert.Contains(_events.For(pod.Metadata.Uid), e => e.Reason == "Killing");
        await _syncer.KillPodAsync(pod, TimeSpan.FromSeconds(1), CancellationToken.None);
    }

    public void Dispose() => _rt.Dispose();
}
