using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Kubelet.Events;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Tests.Support;
using NodeAgent.Cri;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>Pod workers drive a pod to Running, resync on container events, and tear it down on removal.</summary>
public sealed class PodWorkersTests : IAsyncLifetime
{
    private readonly RuntimeFixture _rt = new();
    private readonly PodStatusManager _statuses = new();
    private readonly PodSyncer _syncer;
    private readonly PodWorkers _workers;

    public PodWorkersTests()
    {
        _syncer = new PodSyncer(_rt.Runtime, _rt.ImageService, new ContainerBackoff(TimeProvider.System),
            new PodEventLog(NullLogger<PodEventLog>.Instance, TimeProvider.System), new PodSandboxFactory(_rt.Logs),
            TimeProvider.System, NullLogger<PodSyncer>.Instance);
        _workers = new PodWorkers(_syncer, _statuses, () => "127.0.0.1", TimeProvider.System, NullLogger<PodWorkers>.Instance);
    }

    private static V1Pod Pod(string name, string restartPolicy, params string[] command) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = Guid.NewGuid().ToString() },
        Spec = new V1PodSpec
        {
            RestartPolicy = restartPolicy,
            TerminationGracePeriodSeconds = 1,
            Containers = [new V1Container { Name = "main", Image = "localhost/busybox:latest", ImagePullPolicy = "Never", Command = command }],
        },
    };

    /// <summary>Completes when the status manager publishes a status for the pod that satisfies the condition.</summary>
    private Task<V1PodStatus> StatusWhere(V1Pod pod, Func<V1PodStatus, bool> condition)
    {
        var tcs = new TaskCompletionSource<V1PodStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        _statuses.Changed += p =>
        {
            if (p.Metadata.Uid == pod.Metadata.Uid && condition(p.Status))
            {
                tcs.TrySetResult(p.Status);
            }
        };
        if (_statuses.Get(pod.Metadata.Uid) is { } now && condition(now))
        {
            tcs.TrySetResult(now);
        }

        return tcs.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    [PrivilegedFact]
    public async Task APodIsStartedThenRemovedWithItsSandbox()
    {
        var pod = Pod("worker-run", "Always", "sleep", "300");
        var running = StatusWhere(pod, s => s.Phase == "Running");
        _workers.UpdatePod(pod);
        var status = await running;
        Assert.NotNull(status.ContainerStatuses.Single().State.Running);
        Assert.Single(_statuses.List());

        _workers.RemovePod(pod.Metadata.Uid);
        await _workers.Terminated(pod.Metadata.Uid).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Null(_statuses.Get(pod.Metadata.Uid));
        Assert.Null(_syncer.View(pod).Sandbox);
    }

    [PrivilegedFact]
    public async Task AContainerExitNotifiedByTheRuntimeIsSyncedIntoTheStatus()
    {
        var pod = Pod("worker-once", "Never", "sh", "-c", "exit 3");
        var failed = StatusWhere(pod, s => s.Phase == "Failed");
        using var events = _rt.Runtime.SubscribeEvents();
        _workers.UpdatePod(pod);

        // The exit arrives as a runtime event; the worker resyncs the pod it belongs to.
        _ = Task.Run(async () =>
        {
            await foreach (var e in events.Reader.ReadAllAsync())
            {
                if (_rt.Runtime.ContainerStatus(e.ContainerId)?.Labels.GetValueOrDefault(ContainerConfigFactory.PodUidLabel) is { } uid)
                {
                    _workers.Notify(uid);
                }
            }
        });

        var status = await failed;
        Assert.Equal(3, status.ContainerStatuses.Single().State.Terminated.ExitCode);
        Assert.Equal("Error", status.ContainerStatuses.Single().State.Terminated.Reason);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // xunit 2 calls IAsyncLifetime, not IAsyncDisposable: without it the fixture would never be cleaned up.
    public async Task DisposeAsync()
    {
        await _workers.DisposeAsync();
        _rt.Dispose();
    }
}
