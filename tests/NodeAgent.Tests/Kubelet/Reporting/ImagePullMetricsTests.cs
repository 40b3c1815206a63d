using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Kubelet.Events;
using NodeAgent.Kubelet.Images;
using NodeAgent.Tests.Kubelet.Images;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Kubelet.Reporting;
using NodeAgent.Registry;
using NodeAgent.Registry.Config;
using NodeAgent.Tests.Registry;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Reporting;

/// <summary>kubelet's pull and start-attempt metrics over real pulls from a registry on loopback: a pulled image is
/// timed under its size bucket, an image that cannot be pulled counts a failed start attempt with its code.</summary>
public sealed class ImagePullMetricsTests(RegistryFixture registry) : IClassFixture<RegistryFixture>, IDisposable
{
    private readonly RuntimeFixture _rt = new();
    private ImagePuller? _puller;

    [PrivilegedFact]
    public async Task A_pull_is_timed_by_image_size_and_a_failed_pull_counts_a_start_error()
    {
        var metrics = new KubeletMetrics(Prometheus.Metrics.NewCustomRegistry(), "n1", TimeProvider.System);
        var events = new PodEventLog(NullLogger<PodEventLog>.Instance, TimeProvider.System);
        var config = RegistryConfigParser.Parse($"mirrors:\n  \"{registry.Server.Host}\":\n    endpoint: [\"http://{registry.Server.Host}\"]\n", "registries.yaml");
        _puller = new ImagePuller(_rt.Images, _rt.Snapshotter, config);
        var images = new InstrumentedImageService(new RegistryImageService(_rt.Images, _puller, _rt.Root), metrics.Runtime);
        var syncer = new PodSyncer(_rt.Runtime, images, new ContainerBackoff(TimeProvider.System), events, new PodSandboxFactory(_rt.Logs),
            TimeProvider.System, NullLogger<PodSyncer>.Instance, new ImageManager(images, events, TimeProvider.System) { Metrics = metrics.Pods })
        {
            Metrics = metrics.Pods,
        };
        var good = PodImagePullTests.Pod("pulled", $"{registry.Server.Host}/busybox:1");
        var bad = PodImagePullTests.Pod("unpullable", $"{registry.Server.Host}/busybox:absent");

        await syncer.SyncAsync(good, CancellationToken.None);
        await syncer.SyncAsync(bad, CancellationToken.None);

        var text = await MetricsNode.ScrapeAsync(metrics);
        var size = _rt.ImageService.ImageStatus($"{registry.Server.Host}/busybox:1")!.Size;
        Assert.Equal(1, MetricsNode.Sample(text, $"kubelet_image_pull_duration_seconds_count{{image_size_in_bytes=\"{KubeletPodMetrics.ImageSizeLabel(size)}\"}}"));
        Assert.Equal(2, MetricsNode.Sample(text, "kubelet_runtime_operations_total{operation_type=\"pull_image\"}"));
        Assert.Equal(1, MetricsNode.Sample(text, "kubelet_runtime_operations_errors_total{operation_type=\"pull_image\"}"));
        Assert.Equal(2, MetricsNode.Sample(text, "kubelet_started_containers_total{container_type=\"container\"}"));
        Assert.Equal(1, MetricsNode.Sample(text, "kubelet_started_containers_errors_total{container_type=\"container\",code=\"ErrImagePull\"}"));
        Assert.Equal(2, MetricsNode.Sample(text, "kubelet_started_pods_total"));
        var (code, output) = await MetricsNode.PromtoolAsync(text);
        Assert.True(code == 0, $"promtool check metrics exited {code}: {output}");

        await syncer.KillPodAsync(good, TimeSpan.FromSeconds(1), CancellationToken.None);
        await syncer.KillPodAsync(bad, TimeSpan.FromSeconds(1), CancellationToken.None);
    }

    public void Dispose()
    {
        _puller?.Dispose();
        _rt.Dispose();
    }
}
