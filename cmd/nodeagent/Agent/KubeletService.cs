using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Events;
using NodeAgent.Kubelet.Images;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Cri;
using NodeAgent.Server;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// The kubelet half of the daemon: pod sources feed pod config, the dispatcher admits pods and hands them to
/// their workers, runtime events wake the workers, and the read-only API shows the result. On shutdown the
/// workers stop where they are and the pods keep running, as with kubelet.
/// </summary>
internal sealed partial class KubeletService(
    KubeletConfiguration config,
    NodeIdentity node,
    string rootDir,
    string podLogRoot,
    IRuntimeService runtime,
    IImageService images,
    IHostFiles hostFiles,
    ILoggerFactory loggers,
    TimeProvider time) : BackgroundService
{
    private readonly ILogger _logger = loggers.CreateLogger<KubeletService>();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sources = Sources();
        var podConfig = new PodConfig(sources.Select(s => s.Name), loggers.CreateLogger<PodConfig>(), time);
        var volumes = new PodVolumes(Path.Combine(rootDir, "pods"), hostFiles);
        var events = new PodEventLog(loggers.CreateLogger<PodEventLog>(), time);
        var statuses = new PodStatusManager();
        var health = new LoopHealth(time, loggers.CreateLogger<LoopHealth>());
        var syncer = new PodSyncer(runtime, images, new ContainerBackoff(time), events, new PodSandboxFactory(podLogRoot,
            new PodDnsOptions { ClusterDns = config.ClusterDns, ClusterDomain = config.ClusterDomain, ResolvConf = config.ResolvConf },
            (pod, reason, message) => events.Record(pod, "Warning", reason, message)), time, loggers.CreateLogger<PodSyncer>(),
            new ImageManager(images, events, time, logger: loggers.CreateLogger<ImageManager>()))
        {
            HostIp = () => node.Address,
            Volumes = volumes,
        };
        await using var workers = new PodWorkers(syncer, statuses, () => node.Address, time, loggers.CreateLogger<PodWorkers>(), events, health);
        var dispatcher = new PodDispatcher(podConfig, workers, statuses, new PodAdmission(config.MaxPods), events,
            new OrphanPodKiller(runtime, loggers.CreateLogger<OrphanPodKiller>(), volumes, podLogRoot, health), time, loggers.CreateLogger<PodDispatcher>(), health);
        var router = new RuntimeEventRouter(runtime, workers, loggers.CreateLogger<RuntimeEventRouter>());

        await using var server = config.ReadOnlyPort > 0
            ? new ReadOnlyServer(IPAddress.Parse(config.Address), config.ReadOnlyPort, dispatcher, loggers)
            : null;
        if (server is not null)
        {
            try
            {
                await server.StartAsync(stoppingToken);
            }
            catch (IOException e)
            {
                // Another kubelet or agent holds the port: the pods still run, only the read-only API is missing.
                LogServerFailed(config.Address, config.ReadOnlyPort, e.Message);
            }
        }

        LogStarting(node.Name, node.Address ?? "(none)", string.Join(", ", sources.Select(Describe)), config.MaxPods);
        var tasks = new List<Task>
        {
            Guard("pod config", podConfig.RunAsync(stoppingToken)),
            // Restarted after a crash, and visible in LoopHealth (for /healthz) while down.
            Guard("pod dispatcher", health.SuperviseAsync(PodDispatcher.LoopName, dispatcher.RunAsync, stoppingToken)),
            Guard("runtime events", health.SuperviseAsync("runtime events", router.RunAsync, stoppingToken)),
        };
        foreach (var s in sources)
        {
            tasks.Add(Guard($"{s.Name} source", s.RunAsync(podConfig.Input, stoppingToken)));
        }

        await Task.WhenAll(tasks);
        LogStopped(workers.Count);
    }

    private List<IPodSource> Sources()
    {
        var sources = new List<IPodSource>();
        if (!string.IsNullOrEmpty(config.StaticPodPath))
        {
            sources.Add(new FilePodSource(
                new FilePodSourceOptions { ManifestPath = config.StaticPodPath, NodeName = node.Name, CheckFrequency = config.FileCheckFrequency },
                loggers.CreateLogger<FilePodSource>(), time));
        }

        if (config.StaticPodUrl is { } url)
        {
            sources.Add(new HttpPodSource(
                new HttpPodSourceOptions
                {
                    Url = new Uri(url),
                    NodeName = node.Name,
                    CheckFrequency = config.HttpCheckFrequency,
                    Headers = config.StaticPodUrlHeader.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value, StringComparer.Ordinal),
                },
                new HttpClient(), loggers.CreateLogger<HttpPodSource>(), time));
        }

        return sources;
    }

    private string Describe(IPodSource s) => s.Name == PodSourceNames.File ? $"file {config.StaticPodPath}" : $"http {config.StaticPodUrl}";

    private async Task Guard(string what, Task task)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
        catch (Exception e)
        {
            // A bug, not input: say so loudly; the rest of the agent keeps its pods running.
            LogLoopFailed(what, e.ToString());
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "kubelet starting: node {Node} ({Address}), sources: {Sources}, max pods {MaxPods}")]
    private partial void LogStarting(string node, string address, string sources, int maxPods);

    [LoggerMessage(Level = LogLevel.Error, Message = "read-only API not started: cannot listen on {Address}:{Port}: {Error}")]
    private partial void LogServerFailed(string address, int port, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{What} loop failed: {Error}")]
    private partial void LogLoopFailed(string what, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "kubelet stopped; {Count} pod worker(s) left their pods running")]
    private partial void LogStopped(int count);
}

/// <summary>The node's name and address as the pods see them.</summary>
internal sealed record NodeIdentity(string Name, string? Address);
