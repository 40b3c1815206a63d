using Microsoft.Extensions.Logging;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Api;
using NodeAgent.Kubelet.Node;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Events;
using NodeAgent.Kubelet.Eviction;
using NodeAgent.Kubelet.Images;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Kubelet.Stats;
using NodeAgent.Kubelet.Reporting;
using NodeAgent.Kubelet.Prober;
using NodeAgent.Kubelet.Volumes;

namespace NodeAgent.Kubelet.Agent;

/// <summary>
/// The kubelet composed from its parts: pod sources feed pod config, the dispatcher admits pods and hands them to
/// their workers, runtime events wake the workers. It reaches the runtime and images only through their interfaces
/// (the composition root passes the implementations: the contracts of NodeAgent.Cri). Every loop runs under the <see cref="LoopSupervisor"/>;
/// <see cref="Pods"/> is what the read-only API serves. On shutdown the workers stop where they are and the pods
/// keep running, as with kubelet.
/// </summary>
public sealed partial class KubeletHost
{
    private readonly LoopHealth _health;
    private readonly KubeletHostOptions _options;
    private readonly LoopSupervisor _supervisor;
    private readonly ILogger _logger;
    private readonly List<IPodSource> _sources;
    private readonly HttpClient? _http;
    private readonly PodConfig _podConfig;
    private readonly PodWorkers _workers;
    private readonly PodDispatcher _dispatcher;
    private readonly RuntimeEventRouter _router;
    private readonly KubeletApiServices? _api;
    private readonly HeapTrimmer _trimmer;
    private readonly IPodLister _pods;
    private readonly List<(string Name, Func<CancellationToken, Task> Run)> _apiLoops = [];
    private readonly List<(string Name, Func<CancellationToken, Task> Run)> _loops = [];
    private readonly IHostFiles _hostFiles;
    private NodeStatusReporter? _reporter;

    public KubeletHost(KubeletHostOptions options, IRuntimeService runtime, IImageService images, IHostFiles hostFiles,
        LoopSupervisor supervisor, ILoggerFactory loggers, TimeProvider time)
    {
        _options = options;
        _supervisor = supervisor;
        var metrics = options.Metrics;
        // The stats documents read the images' filesystem through the plain service: a scrape is not a CRI call.
        // One measurement of pods' volumes (walked in the background) for /stats/summary and the eviction manager.
        var volumeUsage = new PodVolumeUsage(Path.Combine(options.RootDir, "pods"), time) { Period = options.VolumeStatsPeriod };
        Expositions = [.. metrics?.Expositions ?? [], .. options.Stats is { } stats
            ? new IHttpExposition[] { new CadvisorExposition(stats), new ResourceMetricsExposition(stats), new SummaryExposition(stats, images, options.Node.Name, volumeUsage) }
            : []];
        if (metrics is not null)
        {
            // Gauges from the runtime itself: a scrape counts no runtime operation.
            metrics.Pods.CollectRunningFrom(runtime);
            runtime = new InstrumentedRuntimeService(runtime, metrics.Runtime);
            images = new InstrumentedImageService(images, metrics.Runtime);
            if (options.Api is { } context)
            {
                context.Connection.Metrics ??= metrics.RestClient;
            }
        }

        _logger = loggers.CreateLogger<KubeletHost>();
        var config = options.Config;
        var node = options.Node;
        _sources = [];
        _api = options.Api is { } apiContext ? new KubeletApiServices(apiContext, node.Name, loggers, time) : null;
        if (!string.IsNullOrEmpty(config.StaticPodPath))
        {
            _sources.Add(new FilePodSource(
                new FilePodSourceOptions { Files = hostFiles, ManifestPath = config.StaticPodPath, NodeName = node.Name, CheckFrequency = config.FileCheckFrequency },
                loggers.CreateLogger<FilePodSource>(), time));
        }

        if (config.StaticPodUrl is { } url)
        {
            _http = HttpPodSource.CreateClient();
            _sources.Add(new HttpPodSource(
                new HttpPodSourceOptions
                {
                    Url = new Uri(url),
                    NodeName = node.Name,
                    CheckFrequency = config.HttpCheckFrequency,
                    Headers = config.StaticPodUrlHeader.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value, StringComparer.Ordinal),
                },
                _http, loggers.CreateLogger<HttpPodSource>(), time));
        }

        ApiPodSource? apiSource = null;
        if (_api is not null)
        {
            apiSource = new ApiPodSource(_api.Connection, node.Name, loggers.CreateLogger<ApiPodSource>(), time);
            _sources.Add(apiSource);
        }

        _podConfig = new PodConfig(_sources.Select(s => s.Name), loggers.CreateLogger<PodConfig>(), time);
        var localEvents = new PodEventLog(loggers.CreateLogger<PodEventLog>(), time);
        IPodEventRecorder events = _api is null ? localEvents : new ApiPodEvents(localEvents, _api.Events);
        var podsRoot = Path.Combine(options.RootDir, "pods");
        var apiVolumes = _api is null ? null : ApiVolumes.Create(podsRoot, _api.Connection, hostFiles, events, time, loggers, config.SyncFrequency);
        _hostFiles = hostFiles;
        var volumes = new PodVolumes(podsRoot, hostFiles, apiVolumes)
        {
            EmptyDirs = new EmptyDirVolumes(podsRoot, hostFiles, () => AllocatableMemory(options), loggers.CreateLogger<EmptyDirVolumes>()),
            Events = events,
        };
        var statuses = new PodStatusManager();
        var starts = new PodStartTracker(time, metrics?.Pods);
        var dns = new PodDnsOptions { ClusterDns = config.ClusterDns, ClusterDomain = config.ClusterDomain, ResolvConf = config.ResolvConf };
        var syncer = new PodSyncer(runtime, images, new ContainerBackoff(time),
            events, new PodSandboxFactory(options.PodLogDir, dns, (pod, reason, message) => events.Record(pod, "Warning", reason, message)),
            time, loggers.CreateLogger<PodSyncer>(),
            new ImageManager(images, events, time, apiVolumes is null ? null : new ApiPullSecrets(apiVolumes.Objects), loggers.CreateLogger<ImageManager>())
            {
                Metrics = metrics?.Pods,
            })
        {
            HostIp = () => node.Address,
            Seccomp = new SeccompProfiles(Path.Combine(options.RootDir, "seccomp"), config.SeccompDefault),
            Volumes = volumes,
            Starts = starts,
            Metrics = metrics?.Pods,
        };
        _health = new LoopHealth(time, loggers.CreateLogger<LoopHealth>());
        _trimmer = new HeapTrimmer(time, loggers.CreateLogger<HeapTrimmer>());
        // Exec probes and hooks run through the runtime's ExecSync (the instrumented one: kubelet counts exec_sync).
        var exec = options.ContainerExec ?? new RuntimeContainerExec(runtime);
        // The prober reaches pods over their own network namespaces (the runtime's sockets) and reads their
        // running containers from the statuses the workers publish.
        var runner = options.Sockets is null ? null : new ProbeRunner(options.Sockets, exec);
        Probes = runner is null ? null : new ProbeManager(runner, statuses.Get,
            pod => syncer.Sandbox(pod) is { State: SandboxState.Ready } s ? s.Id : null, events, time, loggers.CreateLogger<ProbeManager>(), metrics?.Probes);
        syncer.Probes = Probes;
        syncer.TerminationMessages = new TerminationMessages(podsRoot);
        syncer.Hooks = runner is null ? null : new LifecycleHooks(runner, time);
        _workers = new PodWorkers(syncer, statuses, () => node.Address, time, loggers.CreateLogger<PodWorkers>(), events, _health)
        {
            PodRemoved = _trimmer.PodRemoved,
            Starts = starts,
            Metrics = metrics?.Pods,
            Probes = Probes,
        };
        if (Probes is not null)
        {
            Probes.Results.Changed += _workers.Notify;
        }
        _dispatcher = new PodDispatcher(_podConfig, _workers, statuses, new PodAdmission(config.MaxPods, node.Name, NodeLabels, new SysctlAllowlist(config.AllowedUnsafeSysctls)), events,
            new OrphanPodKiller(runtime, loggers.CreateLogger<OrphanPodKiller>(), volumes, options.PodLogDir, _health), time,
            loggers.CreateLogger<PodDispatcher>(), _health);
        _pods = new PodStartAnnotatingLister(_dispatcher, starts);
        _router = new RuntimeEventRouter(runtime, _workers, loggers.CreateLogger<RuntimeEventRouter>());
        if (options.Stats is { } podStats && config.LocalStorageCapacityIsolation)
        {
            var evictions = new EvictionManager(_dispatcher.ListPods, podStats, volumeUsage, _workers, events, time,
                loggers.CreateLogger<EvictionManager>(), metrics?.Pods)
            {
                MonitoringPeriod = options.EvictionMonitoringPeriod,
            };
            _loops.Add(("eviction manager", evictions.RunAsync));
        }
        if (apiVolumes is not null)
        {
            _apiLoops.Add(("volume refresh", apiVolumes.RunAsync));
        }

        if (_api is not null && apiSource is not null)
        {
            ComposeApiMode(_api, apiSource, statuses, images, loggers, time);
        }
    }

    /// <summary>The node's Node, Lease, status writer and mirror pods (API server mode).</summary>
    private void ComposeApiMode(KubeletApiServices api, ApiPodSource source, PodStatusManager statuses, IImageService images, ILoggerFactory loggers, TimeProvider time)
    {
        var settings = _options.NodeStatus ?? new NodeStatusSettings { RuntimeVersion = "nodeagent://unknown", KubeletVersion = "v0.0.0" };
        var config = _options.Config;
        settings = settings with
        {
            MaxPods = config.MaxPods,
            Reserved = NodeFlagValues.ReservedAmounts("kubeReserved/systemReserved", config.KubeReserved, config.SystemReserved),
            EvictionHard = NodeFlagValues.Thresholds("evictionHard", config.EvictionHard),
        };
        var reporter = _reporter = new NodeStatusReporter(api.Connection, _options.Node, _options.Registration, settings,
            _options.HostReadings ?? new NodeHostReadings(_options.RootDir), images, NotReadyMessage, api.Events,
            loggers.CreateLogger<NodeStatusReporter>(), time)
        {
            UpdateFrequency = _options.Config.NodeStatusUpdateFrequency,
            Startup = _options.Metrics?.Startup,
        };
        var lease = new NodeLease(api.Connection, _options.Node.Name, () => reporter.Current, loggers.CreateLogger<NodeLease>(), time);
        StatusWriter = new PodStatusWriter(api.Connection, source, statuses, loggers.CreateLogger<PodStatusWriter>());
        var mirrors = new MirrorPods(api.Connection, source, _dispatcher, statuses, () => reporter.Registered, loggers.CreateLogger<MirrorPods>());
        _apiLoops.Add(("node status", reporter.RunAsync));
        _apiLoops.Add(("node lease", lease.RunAsync));
        _apiLoops.Add(("pod status writer", StatusWriter.RunAsync));
        _apiLoops.Add(("mirror pods", mirrors.RunAsync));
    }

    /// <summary>The node's labels for admission: the Node's as the API server has them, else kubelet's defaults and
    /// <c>--node-labels</c> (standalone, or before registration).</summary>
    private IDictionary<string, string> NodeLabels()
    {
        if (_reporter?.Current?.Metadata?.Labels is { } labels)
        {
            return labels;
        }

        var defaults = NodeRegistration.DefaultLabels(_options.Node.Name, NodeHostReadings.GoArch);
        foreach (var (k, v) in _options.Registration.Labels)
        {
            defaults[k] = v;
        }

        return defaults;
    }

    /// <summary>API server mode: the writer of pod statuses (null standalone).</summary>
    public PodStatusWriter? StatusWriter { get; private set; }

    private string? NotReadyMessage() =>
        _health.IsHealthy ? null : "kubelet loop failed: " + string.Join(", ", _health.FailedLoops.Select(l => l.Name));

    /// <summary>The containers' liveness, readiness and startup probes (null without sockets into sandboxes).</summary>
    public ProbeManager? Probes { get; }

    /// <summary>Loops and pod workers that report their own state (a crashed dispatcher, a worker whose loop failed).</summary>
    public LoopHealth PodLoops => _health;

    /// <summary>The node's pods with their live statuses and start phases (for the kubelet's own <c>/pods</c>; the
    /// start annotation never reaches the API server).</summary>
    public IPodLister Pods => _pods;

    /// <summary>The documents the kubelet API serves besides its own routes: <c>/metrics</c>, <c>/metrics/probes</c>
    /// (with <see cref="KubeletHostOptions.Metrics"/>), <c>/metrics/cadvisor</c>, <c>/metrics/resource</c> and
    /// <c>/stats/summary</c> (with <see cref="KubeletHostOptions.Stats"/>).</summary>
    public IReadOnlyList<IHttpExposition> Expositions { get; }

    /// <summary>Runs every kubelet loop until <paramref name="stoppingToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            var node = _options.Node;
            LogStarting(node.Name, node.Address ?? "(none)", string.Join(", ", _sources.Select(Describe)), _options.Config.MaxPods);
            var loops = new List<Task>
            {
                _supervisor.RunAsync("pod config", _podConfig.RunAsync, stoppingToken),
                // Restarted after a crash (LoopHealth.SuperviseAsync) and reported failed while down.
                _supervisor.RunAsync("pod dispatcher", ct => _health.SuperviseAsync(PodDispatcher.LoopName, _dispatcher.RunAsync, ct), stoppingToken),
                _supervisor.RunAsync("runtime events", ct => _health.SuperviseAsync("runtime events", _router.RunAsync, ct), stoppingToken),
            };
            foreach (var s in _sources)
            {
                loops.Add(_supervisor.RunAsync($"{s.Name} source", ct => s.RunAsync(_podConfig.Input, ct), stoppingToken));
            }

            MakePodsRootShared();
            foreach (var (name, run) in _loops.Concat(_apiLoops))
            {
                loops.Add(_supervisor.RunAsync(name, ct => _health.SuperviseAsync(name, run, ct), stoppingToken));
            }

            await Task.WhenAll(loops);
            LogStopped(_workers.Count);
        }
        finally
        {
            await _workers.DisposeAsync();
            if (Probes is not null)
            {
                await Probes.DisposeAsync();
            }
            _trimmer.Dispose();
            _http?.Dispose();
            if (_api is not null)
            {
                await _api.DisposeAsync();
            }
        }
    }

    /// <summary>kubelet's setupDataDirs MakeRShared of its root: here the pods' directory (the runtime's own
    /// directories, container root filesystems among them, stay private), so volumes can propagate mounts.</summary>
    private void MakePodsRootShared()
    {
        var podsRoot = Path.Combine(_options.RootDir, "pods");
        try
        {
            Directory.CreateDirectory(podsRoot);
            if (_hostFiles.MakeRShared(podsRoot))
            {
                LogMadeShared(podsRoot);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogSharedFailed(podsRoot, e.Message);
        }
    }

    /// <summary>The node's allocatable memory (capacity less kube/system reserved, the memory.available hard
    /// eviction threshold and hugepages), read once: the default size of a memory-backed emptyDir.</summary>
    private long AllocatableMemory(KubeletHostOptions options)
    {
        if (_allocatableMemory is { } known)
        {
            return known;
        }

        var machine = (options.HostReadings ?? new NodeHostReadings(options.RootDir)).Machine();
        var config = options.Config;
        long reserved = 0, threshold = 0;
        try
        {
            reserved = NodeFlagValues.ReservedAmounts("kubeReserved/systemReserved", config.KubeReserved, config.SystemReserved).GetValueOrDefault("memory");
            threshold = NodeFlagValues.Thresholds("evictionHard", config.EvictionHard)
                .FirstOrDefault(t => t.Signal == EvictionThreshold.MemoryAvailable)?.Of(machine.MemoryBytes) ?? 0;
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            // Checked when the options were read; a value that got past that reserves nothing here.
        }

        var value = Math.Max(0, machine.MemoryBytes - reserved - threshold - machine.HugePages.Values.Sum());
        _allocatableMemory = value;
        return value;
    }

    private long? _allocatableMemory;

    private string Describe(IPodSource s) => s.Name switch
    {
        PodSourceNames.File => $"file {_options.Config.StaticPodPath}",
        PodSourceNames.Http => $"http {_options.Config.StaticPodUrl}",
        _ => $"api {_options.Api?.KubeConfigPath}",
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "kubelet starting: node {Node} ({Address}), sources: {Sources}, max pods {MaxPods}")]
    private partial void LogStarting(string node, string address, string sources, int maxPods);

    [LoggerMessage(Level = LogLevel.Information, Message = "pods directory {Directory} made a shared mount (rshared), as kubelet's root")]
    private partial void LogMadeShared(string directory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pods directory {Directory} could not be made a shared mount (mount propagation of volumes will not work): {Error}")]
    private partial void LogSharedFailed(string directory, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "kubelet stopped; {Count} pod worker(s) left their pods running")]
    private partial void LogStopped(int count);
}
