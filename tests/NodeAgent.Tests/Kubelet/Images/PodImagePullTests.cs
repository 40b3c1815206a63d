using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Kubelet.Events;
using NodeAgent.Kubelet.Images;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Registry;
using NodeAgent.Registry.Config;
using NodeAgent.Tests.Registry;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Images;

/// <summary>SyncPod with registry pulls on the real runtime: a pod whose image is only in the registry starts; a pod
/// whose image cannot be pulled waits in ErrImagePull while another pod's pull and start go on.</summary>
public sealed class PodImagePullTests(RegistryFixture registry) : IClassFixture<RegistryFixture>, IDisposable
{
    private readonly RuntimeFixture _rt = new();
    private readonly PodEventLog _events = new(NullLogger<PodEventLog>.Instance, TimeProvider.System);
    private ImagePuller? _puller;

    private PodSyncer Syncer()
    {
        var config = RegistryConfigParser.Parse($"mirrors:\n  \"{registry.Server.Host}\":\n    endpoint: [\"http://{registry.Server.Host}\"]\n", "registries.yaml");
        _puller = new ImagePuller(_rt.Images, _rt.Snapshotter, config);
        var images = new ImageManager(new RegistryImageService(_rt.Images, _puller, _rt.Root), _events, TimeProvider.System);
        return new PodSyncer(_rt.Runtime, _rt.ImageService, new ContainerBackoff(TimeProvider.System), _events,
            new PodSandboxFactory(_rt.Logs), TimeProvider.System, NullLogger<PodSyncer>.Instance, images);
    }

    /// <summary>A pod of one busybox container (<c>sleep 300</c>) whose image is pulled if not present.</summary>
    internal static V1Pod Pod(string name, string image) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = Guid.NewGuid().ToString() },
        Spec = new V1PodSpec
        {
            RestartPolicy = "Always",
            TerminationGracePeriodSeconds = 1,
            Containers = [new V1Container { Name = "main", Image = image, ImagePullPolicy = "IfNotPresent", Command = ["sleep", "300"] }],
        },
    };

    [PrivilegedFact]
    public async Task PodImageIsPulledThenTheContainerStarts()
    {
        var syncer = Syncer();
        var good = Pod("pulled", $"{registry.Server.Host}/busybox:1");
        var bad = Pod("unpullable", $"{registry.Server.Host}/busybox:absent");

        var results = await Task.WhenAll(syncer.SyncAsync(good, CancellationToken.None), syncer.SyncAsync(bad, CancellationToken.None));

        var running = PodStatusBuilder.Build(good, syncer.View(good), results[0].Waiting, "127.0.0.1", DateTime.UtcNow, DateTime.UtcNow);
        Assert.Equal("Running", running.Phase);
        Assert.Equal(["Pulling", "Pulled", "Created", "Started"], _events.For(good.Metadata.Uid).Select(e => e.Reason));
        var waiting = PodStatusBuilder.Build(bad, syncer.View(bad), results[1].Waiting, "127.0.0.1", DateTime.UtcNow, DateTime.UtcNow);
        var state = waiting.ContainerStatuses.Single().State.Waiting;
        Assert.Equal("ErrImagePull", state.Reason);
        Assert.Contains("busybox:absent", state.Message);
        Assert.Equal(ContainerBackoff.Initial, results[1].RetryAfter);

        await syncer.KillPodAsync(good, TimeSpan.FromSeconds(1), CancellationToken.None);
        await syncer.KillPodAsync(bad, TimeSpan.FromSeconds(1), CancellationToken.None);
    }

    public void Dispose()
    {
        _puller?.Dispose();
        _rt.Dispose();
    }
}
