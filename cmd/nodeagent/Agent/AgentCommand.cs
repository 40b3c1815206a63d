using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeAgent.Cgroups;
using NodeAgent.Cli.Commands;
using NodeAgent.Images;
using NodeAgent.Registry;
using NodeAgent.Runtime;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// <c>nodeagent agent</c>: the long-running daemon, a kubelet for static pods. It runs the pods of the manifest
/// directory and URL, re-adopts running containers, follows their exits as the kernel reports them, serves the
/// read-only API, imports image archives dropped into <c>&lt;root&gt;/images/</c>, tells systemd it is ready, and on
/// SIGTERM stops cleanly while the pods keep running (as kubelet does).
/// </summary>
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
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            var root = pr.GetValue(CommonOptions.RootDir)!;
            var warnings = new List<string>();
            var config = KubeletFlags.Resolve(pr, warnings);
            var node = new NodeIdentity(KubeletFlags.NodeName(pr), KubeletFlags.NodeAddress(pr));
            var podLogRoot = config.PodLogsDir is { Length: > 0 } dir && pr.GetResult(CommonOptions.LogRoot) is not { Implicit: false }
                ? dir
                : pr.GetValue(CommonOptions.LogRoot)!;
            var network = NetworkFlags.CreatePodNetwork(pr, root);
            var networkCheck = NetworkFlags.CheckPeriod(pr);
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.UseUtcTimestamp = true;
            });
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            // Kestrel's per-request lines and the second host's lifetime banner are noise in a node agent's log.
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
            builder.Services.AddSingleton(TimeProvider.System);
            builder.Services.AddSingleton(sp => new ImageStore(root, sp.GetRequiredService<ILoggerFactory>().CreateLogger<ImageStore>()));
            builder.Services.AddSingleton<IImageStore>(sp => sp.GetRequiredService<ImageStore>());
            builder.Services.AddSingleton(sp => new OverlaySnapshotter(sp.GetRequiredService<ImageStore>()));
            builder.Services.AddSingleton(_ => CgroupManagerFactory.Create(rootPrefix: pr.GetValue(CommonOptions.CgroupRoot)!));
            builder.Services.AddSingleton(sp => new LinuxRuntimeService(
                new RuntimeOptions { RootDir = root },
                sp.GetRequiredService<IImageStore>(),
                sp.GetRequiredService<OverlaySnapshotter>(),
                sp.GetRequiredService<ICgroupManager>(),
                network));
            AgentImageOptions.Register(builder.Services, pr);
            builder.Services.AddHostedService(sp => new ImageImportService(sp.GetRequiredService<IImageStore>(), root, sp.GetRequiredService<ILogger<ImageImportService>>()));
            if (network is not null)
            {
                builder.Services.AddHostedService(sp => new NetworkCheckService(sp.GetRequiredService<LinuxRuntimeService>(), networkCheck,
                    sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<NetworkCheckService>>()));
            }
            builder.Services.AddHostedService(sp => new KubeletService(config, node, root, podLogRoot,
                sp.GetRequiredService<LinuxRuntimeService>(),
                new RegistryImageService(sp.GetRequiredService<IImageStore>(), sp.GetRequiredService<NodeAgent.Registry.IImagePuller>(), root,
                    sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RegistryImageService>>()),
                HostFiles.Instance, sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>()));
            builder.Services.AddHostedService(sp => new SystemdNotifier(sp.GetRequiredService<ILogger<SystemdNotifier>>()));
            using var host = builder.Build();
            var log = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("config");
            foreach (var w in warnings)
            {
                log.LogWarning("{Warning}", w);
            }

            await host.RunAsync(ct);
            return 0;
        }));
        return cmd;
    }
}
