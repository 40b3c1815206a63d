using NodeAgent.Cri;
using Prometheus;

namespace NodeAgent.Kubelet.Reporting;

/// <summary>
/// kubelet's pod families (<c>pkg/kubelet/metrics</c>), names, labels, buckets and help as kubelet 1.32 has them, plus
/// NodeAgent's start breakdown <c>nodeagent_pod_start_phase_duration_seconds{phase}</c>. Counters and histograms are
/// fed where the work happens (pod workers, the syncer, the image manager); the running pods and containers gauges
/// are computed at scrape time from the runtime's in-memory lists (<see cref="CollectRunningFrom"/>), never kept up
/// to date on every event.
/// </summary>
public sealed class KubeletPodMetrics
{
    /// <summary>kubelet's <c>imageSizeBuckets</c>: the label of <c>image_pull_duration_seconds</c> by lower bound.</summary>
    private static readonly (long LowerBound, string Label)[] ImageSizes =
    [
        (0, "0-10MB"), (10L << 20, "10MB-100MB"), (100L << 20, "100MB-500MB"), (500L << 20, "500MB-1GB"),
        (1L << 30, "1GB-5GB"), (5L << 30, "5GB-10GB"), (10L << 30, "10GB-20GB"), (20L << 30, "20GB-30GB"),
        (30L << 30, "30GB-40GB"), (40L << 30, "40GB-60GB"), (60L << 30, "60GB-100GB"), (100L << 30, "GT100GB"),
    ];

    /// <summary>kubelet's container states, the values of <c>container_state</c>.</summary>
    private static readonly string[] ContainerStates = ["created", "running", "exited", "unknown"];

    private readonly Histogram _podStart, _podStartSli, _workerDuration, _imagePull, _phases;
    private readonly Counter _startedPods, _startedPodErrors, _startedContainers, _startedContainerErrors, _restartedPods, _evictions;
    private readonly Gauge _runningPods, _runningContainers;
    private readonly CollectorRegistry _registry;

    public KubeletPodMetrics(CollectorRegistry registry)
    {
        _registry = registry;
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _podStart = factory.CreateHistogram("kubelet_pod_start_duration_seconds",
            MetricHelp.Alpha("Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run"),
            new HistogramConfiguration { Buckets = MetricHelp.PodStartupBuckets });
        _podStartSli = factory.CreateHistogram("kubelet_pod_start_sli_duration_seconds",
            MetricHelp.Alpha("Duration in seconds to start a pod, excluding time to pull images and run init containers, measured from pod creation timestamp to when all its containers are reported as started and observed via watch"),
            new HistogramConfiguration { Buckets = MetricHelp.PodStartupBuckets });
        _workerDuration = factory.CreateHistogram("kubelet_pod_worker_duration_seconds",
            MetricHelp.Alpha("Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync"),
            new HistogramConfiguration { LabelNames = ["operation_type"], Buckets = MetricHelp.DefaultBuckets });
        _imagePull = factory.CreateHistogram("kubelet_image_pull_duration_seconds",
            MetricHelp.Alpha("Duration in seconds to pull an image."),
            new HistogramConfiguration
            {
                LabelNames = ["image_size_in_bytes"],
                Buckets = [1, 5, 10, 20, 30, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600],
            });
        _phases = factory.CreateHistogram("nodeagent_pod_start_phase_duration_seconds",
            "Duration in seconds of each phase of a pod's start, once per started pod: admission (first seen to first sync), image_pull, sandbox (volumes, sandbox and its network), container_create, container_start, first_ready (last container started to the pod Ready).",
            new HistogramConfiguration { LabelNames = ["phase"], Buckets = MetricHelp.Exponential(0.001, 2.5, 16) });
        _startedPods = factory.CreateCounter("kubelet_started_pods_total", MetricHelp.Alpha("Cumulative number of pods started"));
        _startedPodErrors = factory.CreateCounter("kubelet_started_pods_errors_total", MetricHelp.Alpha("Cumulative number of errors when starting pods"));
        _startedContainers = factory.CreateCounter("kubelet_started_containers_total", MetricHelp.Alpha("Cumulative number of containers started"),
            new CounterConfiguration { LabelNames = ["container_type"] });
        _startedContainerErrors = factory.CreateCounter("kubelet_started_containers_errors_total", MetricHelp.Alpha("Cumulative number of errors when starting containers"),
            new CounterConfiguration { LabelNames = ["container_type", "code"] });
        _restartedPods = factory.CreateCounter("kubelet_restarted_pods_total",
            MetricHelp.Alpha("Number of pods that have been restarted because they were deleted and recreated with the same UID while the kubelet was watching them (common for static pods, extremely uncommon for API pods)"),
            new CounterConfiguration { LabelNames = ["static"] });
        _evictions = factory.CreateCounter("kubelet_evictions", MetricHelp.Alpha("Cumulative number of pod evictions by eviction signal"),
            new CounterConfiguration { LabelNames = ["eviction_signal"] });
        _runningPods = factory.CreateGauge("kubelet_running_pods", MetricHelp.Alpha("Number of pods that have a running pod sandbox"));
        _runningContainers = factory.CreateGauge("kubelet_running_containers", MetricHelp.Alpha("Number of containers currently running"),
            new GaugeConfiguration { LabelNames = ["container_state"] });
    }

    /// <summary>Computes <c>kubelet_running_pods</c> and <c>kubelet_running_containers</c> from the runtime at each
    /// scrape: two in-memory lists, no file read, no runtime operation counted (pass the uninstrumented runtime).</summary>
    public void CollectRunningFrom(IRuntimeService runtime)
    {
        _registry.AddBeforeCollectCallback(() =>
        {
            var pods = new HashSet<string>(StringComparer.Ordinal);
            foreach (var sandbox in runtime.ListPodSandboxes())
            {
                if (sandbox.State == SandboxState.Ready)
                {
                    pods.Add(sandbox.Config.Uid);
                }
            }

            _runningPods.Set(pods.Count);
            Span<int> counts = stackalloc int[ContainerStates.Length];
            foreach (var container in runtime.ListContainers())
            {
                if ((uint)container.State < (uint)counts.Length)
                {
                    counts[(int)container.State]++;
                }
            }

            for (var i = 0; i < ContainerStates.Length; i++)
            {
                _runningContainers.WithLabels(ContainerStates[i]).Set(counts[i]);
            }
        });
    }

    public void PodStarted(TimeSpan sinceSeen) => _podStart.Observe(Seconds(sinceSeen));

    public void PodStartSli(TimeSpan duration) => _podStartSli.Observe(Seconds(duration));

    /// <summary>One pod worker pass: <c>create</c>, <c>update</c>, <c>sync</c> or <c>kill</c>.</summary>
    public void WorkerSynced(string operation, TimeSpan duration) => _workerDuration.WithLabels(operation).Observe(Seconds(duration));

    /// <summary>A successful pull of an image of <paramref name="size"/> bytes, waiting included.</summary>
    public void ImagePulled(long size, TimeSpan duration) => _imagePull.WithLabels(ImageSizeLabel(size)).Observe(Seconds(duration));

    public void Phase(string phase, TimeSpan duration) => _phases.WithLabels(phase).Observe(Seconds(duration));

    /// <summary>A sandbox is about to be created (kubelet counts the attempt).</summary>
    public void SandboxStarting() => _startedPods.Inc();

    public void SandboxFailed() => _startedPodErrors.Inc();

    /// <summary>A container start is attempted (its image, create and start follow): <c>container</c> or
    /// <c>init_container</c>.</summary>
    public void ContainerStarting(bool init) => _startedContainers.WithLabels(ContainerType(init)).Inc();

    /// <summary>The attempt failed with kubelet's error code (<c>ErrImagePull</c>, <c>ImagePullBackOff</c>,
    /// <c>CreateContainerConfigError</c>, <c>CreateContainerError</c>, <c>RunContainerError</c>…).</summary>
    public void ContainerFailed(bool init, string code) => _startedContainerErrors.WithLabels(ContainerType(init), code).Inc();

    private static string ContainerType(bool init) => init ? "init_container" : "container";

    /// <summary>A pod deleted and added again with the same UID while its worker ran.</summary>
    public void PodRestarted(bool isStatic) => _restartedPods.WithLabels(isStatic ? "true" : "false").Inc();

    /// <summary>A pod evicted for <paramref name="signal"/> (e.g. <c>memory.available</c>).</summary>
    public void Evicted(string signal) => _evictions.WithLabels(signal).Inc();

    /// <summary>kubelet's <c>GetImageSizeBucket</c>.</summary>
    public static string ImageSizeLabel(long size)
    {
        var label = ImageSizes[0].Label;
        foreach (var (bound, name) in ImageSizes)
        {
            if (size >= bound)
            {
                label = name;
            }
        }

        return label;
    }

    private static double Seconds(TimeSpan t) => Math.Max(0, t.TotalSeconds);
}
