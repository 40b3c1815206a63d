using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Events;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>A pod's sync reads only that pod from the runtime: filtered lists, never the whole node.</summary>
public sealed class PodSyncerListingTests : IDisposable
{
    private readonly RuntimeFixture _rt = new();
    private readonly CountingRuntimeService _runtime;
    private readonly PodSyncer _syncer;

    public PodSyncerListingTests()
    {
        _runtime = new CountingRuntimeService(_rt.Runtime);
        _syncer = new PodSyncer(_runtime, _rt.ImageService, new ContainerBackoff(TimeProvider.System),
            new PodEventLog(NullLogger<PodEventLog>.Instance, TimeProvider.System), new PodSandboxFactory(_rt.Logs),
            TimeProvider.System, NullLogger<PodSyncer>.Instance);
    }

    private static V1Pod Pod(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = Guid.NewGuid().ToString() },
        Spec = new V1PodSpec
        {
            RestartPolicy = "Always",
            TerminationGracePeriodSeconds = 1,
            Containers = [new V1Container { Name = "main", Image = "localhost/busybox:latest", ImagePullPolicy = "Never", Command = ["sleep", "300"] }],
        },
    };

    [PrivilegedFact]
    public async Task ASyncOfOnePodListsOnlyThatPod()
    {
        var pods = new[] { Pod("one"), Pod("two"), Pod("three") };
        foreach (var pod in pods)
        {
            await _syncer.SyncAsync(pod, CancellationToken.None);
        }

        _runtime.Reset();
        await _syncer.SyncAsync(pods[1], CancellationToken.None);
        var view = _syncer.View(pods[1]);

        Assert.NotEmpty(_runtime.SandboxLists);
        Assert.All(_runtime.SandboxLists, f => Assert.Equal(pods[1].Metadata.Uid, f?.LabelSelector?.GetValueOrDefault(ContainerConfigFactory.PodUidLabel)));
        Assert.NotEmpty(_runtime.ContainerLists);
        Assert.All(_runtime.ContainerLists, f => Assert.Equal(view.Sandbox!.Id, f?.PodSandboxId));
        Assert.Equal(ContainerState.Running, Assert.Single(view.Containers).State);

        foreach (var pod in pods)
        {
            await _syncer.KillPodAsync(pod, TimeSpan.FromSeconds(1), CancellationToken.None);
        }

        Assert.All(_runtime.SandboxLists, f => Assert.NotNull(f?.LabelSelector));
        Assert.Empty(_rt.Runtime.ListPodSandboxes());
    }

    public void Dispose() => _rt.Dispose();
}
