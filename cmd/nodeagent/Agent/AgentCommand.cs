using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeAgent.Cgroups;
using NodeAgent.Cli.Commands;
using NodeAgent.Hosting;
using NodeAgent.Images;
using NodeAgent.Kubelet.Agent;
using NodeAgent.Kubelet.Node;
using NodeAgent.Kubelet.Reporting;
using NodeAgent.Registry;
using NodeAgent.Runtime;
using NodeAgent.Runtime.Sandboxes;
using NodeAgent.Runtime.Stats;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// <c>nodeagent agent</c>: the long-running daemon, a kubelet for static pods. It runs the pods of the manifest
/// directory and URL, re-adopts running containers, follows their exits as the kernel reports them, serves the
/// read-only API, imports image archives dropped into <c>&lt;root&gt;/images/</c>, tells systemd it is ready, and on
/// SIGTERM stops cleanly while the pods keep running (as kubelet does). This is the composition root: settings come
/// from <see cref="AgentOptionsResolver"/>, behaviour from the projects under src/.
/// </summary>
/// <remarks>
/// A SIGTERM (or SIGINT) is a stop asked for, whenever it comes (while the node is resolved, while the host starts,
/// or while it runs): the agent exits 0, as systemd expects of a service it stops (an exit status of 143 marks the
/// unit failed). The agent owns those signals itself: System.CommandLine's handling is off for it (see Program.cs),
/// because with both it and the host's lifetime registered the agent sometimes exited 143 at once, unstopped.
/// </remarks>
internal static class AgentCommand
{
    public static Command Build()
    {
        var cmd = new Command("agent", "Run the node agent daemon");
        foreach (var option in KubeletFlags.All)
        {
            cmd.Options.Add(option);
        }

        NetworkFlags.AddTo(cmd);
        AgentImageOptions.AddTo(cmd);
        AgentProxyOptions.AddTo(cmd);
        cmd.SetAction((pr, _) => CliErrors.RunAsync(() => RunUntilStoppedAsync(pr)));
        return cmd;
    }

    private static async Task<int> RunUntilStoppedAsync(ParseResult pr)
    {
        using var stop = new CancellationTokenSource();
        Action<PosixSignalContext> onStop = context =>
        {
            // Once the host has started, its lifetime takes the signal first and stops it the same way.
            context.Cancel = true;
            stop.Cancel();
        };
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, onStop);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, onStop);
        try
        {
            return await RunAsync(pr, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped before the host had started, or while it started: a stop asked for, as any other (the pods,
            // run by their shims, keep running).
            return 0;
        }
    }

    private static bool IsPodCidr(string text)
    {
        try
        {
            NodeAgent.Network.Ipam.Ipv4Cidr.Parse(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static async Task<int> RunAsync(ParseResult pr, CancellationToken ct)
    {
        var warnings = new List<string>();
        var options = AgentOptionsResolver.Resolve(pr, warnings);
        var nodeName = NodeIdentityResolver.NodeName(options.HostnameOverride, Dns.GetHostName());
        var nodeIps = await new NodeIdentityResolver(new HostNetworkInfo()).NodeAddressesAsync(options.NodeIp, options.HostnameOverride, nodeName, warnings, ct);
        var node = new NodeIdentity(nodeName, nodeIps);
        using var api = ApiServerConnection.Create(options);
        if (api is not null && options.Kubelet.PodCidr is null && options.NetworkPlugin == "bridge")
        {
            // kubelet's rule: in a cluster the Node's spec.podCIDR is the pod network's range unless one was given.
            var (cidr, why) = await NodePodCidr.ReadAsync(api.Context.Connection, nodeName, TimeSpan.FromSeconds(5), IsPodCidr, ct);
            if (cidr is not null)
            {
                options.Kubelet.PodCidr = cidr;
                warnings.Add($"pod network: using the Node's spec.podCIDR {cidr}");
            }
            else
            {
                warnings.Add($"pod network: {why}; using the default {AgentOptions.DefaultPodCidr} (give --pod-cidr to choose one)");
            }
        }

        var proxy = AgentProxyOptions.Resolve(options, nodeName, warnings);
        var network = NetworkFlags.CreatePodNetwork(options);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });

        // sd_notify (READY=1 once started, STOPPING=1 on SIGTERM) through Microsoft.Extensions.Hosting.Systemd,
        // which works under Native AOT (checked with hack/build.sh); a no-op without NOTIFY_SOCKET. Under systemd
        // it picks its own console format, so the agent's format is added after it.
        builder.Services.AddSystemd();
        builder.Logging.AddAgentConsole(options.LoggingFormat);
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        // Kestrel's per-request lines and the second host's lifetime banner are noise in a node agent's log.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // The kubelet API's own Kestrel hosts report a port they cannot bind with a full stack trace; the agent logs
        // that itself in one line ("healthz not started: cannot listen on …") and carries on without that port.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new ImageStore(options.RootDir, sp.GetRequiredService<ILoggerFactory>().CreateLogger<ImageStore>()));
        builder.Services.AddSingleton<IImageStore>(sp => sp.GetRequiredService<ImageStore>());
        builder.Services.AddSingleton(sp => new OverlaySnapshotter(sp.GetRequiredService<ImageStore>()));
        builder.Services.AddSingleton(_ => CgroupManagerFactory.Create(rootPrefix: options.CgroupRoot));
        builder.Services.AddSingleton(sp => new LinuxRuntimeService(
            new RuntimeOptions { RootDir = options.RootDir, StateDir = options.RuntimeStateDir, ResidentExecServers = true },
            sp.GetRequiredService<IImageStore>(),
            sp.GetRequiredService<OverlaySnapshotter>(),
            sp.GetRequiredService<ICgroupManager>(),
            network));
        AgentImageOptions.Register(builder.Services, options);
        builder.Services.AddHostedService(sp => new ImageImportService(sp.GetRequiredService<IImageStore>(), options.RootDir, sp.GetRequiredService<ILogger<ImageImportService>>()));
        if (network is not null)
        {
            builder.Services.AddHostedService(sp => new NetworkCheckService(sp.GetRequiredService<LinuxRuntimeService>(), options.NetworkCheckFrequency,
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<NetworkCheckService>>()));
        }

        builder.Services.AddSingleton(sp => new RuntimeStatsCollector(sp.GetRequiredService<LinuxRuntimeService>(), sp.GetRequiredService<ICgroupManager>(),
            sp.GetRequiredService<OverlaySnapshotter>(), options.RootDir, new RuntimeStatsOptions { FilesystemInterval = options.FsStatsPeriod }));
        // The kubelet's metrics, on registries of their own, served by the kubelet API (/metrics, /metrics/probes).
        builder.Services.AddSingleton(sp => new KubeletMetrics(Prometheus.Metrics.NewCustomRegistry(), nodeName, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => new LoopSupervisor(sp.GetRequiredService<ILogger<LoopSupervisor>>(), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => new KubeletHost(
            new KubeletHostOptions
            {
                Config = options.Kubelet,
                Node = node,
                RootDir = options.RootDir,
                PodLogDir = options.PodLogDir,
                Api = api?.Context,
                Registration = new NodeRegistration { RegisterNode = options.Kubelet.RegisterNode, Labels = options.NodeLabels, Taints = options.Kubelet.RegisterWithTaints },
                NodeStatus = new NodeStatusSettings { RuntimeVersion = "nodeagent://" + AgentVersion.Version, KubeletVersion = AgentVersion.KubeletVersion, KubeletPort = options.Kubelet.Port },
                Sockets = new SandboxSockets(sp.GetRequiredService<LinuxRuntimeService>()),
                Metrics = sp.GetRequiredService<KubeletMetrics>(),
                Stats = sp.GetRequiredService<RuntimeStatsCollector>(),
                EvictionMonitoringPeriod = options.EvictionMonitoringPeriod,
                VolumeStatsPeriod = options.FsStatsPeriod,
            },
            sp.GetRequiredService<LinuxRuntimeService>(),
            new RegistryImageService(sp.GetRequiredService<IImageStore>(), sp.GetRequiredService<IImagePuller>(), options.RootDir,
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RegistryImageService>>()),
            HostFiles.Instance, sp.GetRequiredService<LoopSupervisor>(), sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddHostedService(sp => new KubeletService(sp.GetRequiredService<KubeletHost>(), sp.GetRequiredService<LoopSupervisor>(),
            IPAddress.Parse(options.Kubelet.Address), options.Kubelet.ReadOnlyPort, sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddHostedService(sp => new KubeletApiService(options, node, api?.Context, sp.GetRequiredService<KubeletHost>(), sp.GetRequiredService<LoopSupervisor>(),
            sp.GetRequiredService<LinuxRuntimeService>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>()));
        AgentProxyOptions.Register(builder.Services, proxy);
        builder.Services.AddHostedService(sp => new ReadyLog(sp.GetRequiredService<ILogger<ReadyLog>>()));
        using var host = builder.Build();
        var log = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("config");
        foreach (var w in warnings)
        {
            log.LogWarning("{Warning}", w);
        }

        await host.RunAsync(ct);
        return 0;
    }
}
