using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeAgent.Cgroups;
using NodeAgent.Cli.Commands;
using NodeAgent.Images;
using NodeAgent.Runtime;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// <c>nodeagent agent</c>: the long-running daemon. It re-adopts running containers, follows their exits as the
/// kernel reports them, imports image archives dropped into <c>&lt;root&gt;/images/</c>, tells systemd it is ready,
/// and on SIGTERM stops cleanly while containers keep running (as kubelet does).
/// </summary>
internal static class AgentCommand
{
    public static Command Build()
    {
        var cmd = new Command("agent", "Run the node agent daemon");
        AgentImageOptions.AddTo(cmd);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            var root = pr.GetValue(CommonOptions.RootDir)!;
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.UseUtcTimestamp = true;
            });
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            builder.Services.AddSingleton(TimeProvider.System);
            builder.Services.AddSingleton(sp => new ImageStore(root, sp.GetRequiredService<ILoggerFactory>().CreateLogger<ImageStore>()));
            builder.Services.AddSingleton<IImageStore>(sp => sp.GetRequiredService<ImageStore>());
            builder.Services.AddSingleton(sp => new OverlaySnapshotter(sp.GetRequiredService<ImageStore>()));
            builder.Services.AddSingleton(_ => CgroupManagerFactory.Create(rootPrefix: pr.GetValue(CommonOptions.CgroupRoot)!));
            builder.Services.AddSingleton(sp => new LinuxRuntimeService(
                new RuntimeOptions { RootDir = root },
                sp.GetRequiredService<IImageStore>(),
                sp.GetRequiredService<OverlaySnapshotter>(),
                sp.GetRequiredService<ICgroupManager>()));
            AgentImageOptions.Register(builder.Services, pr);
            builder.Services.AddHostedService(sp => new ImageImportService(sp.GetRequiredService<IImageStore>(), root, sp.GetRequiredService<ILogger<ImageImportService>>()));
            builder.Services.AddHostedService(sp => new ContainerEventService(sp.GetRequiredService<LinuxRuntimeService>(), sp.GetRequiredService<ILogger<ContainerEventService>>()));
            builder.Services.AddHostedService(sp => new SystemdNotifier(sp.GetRequiredService<ILogger<SystemdNotifier>>()));
            using var host = builder.Build();
            await host.RunAsync(ct);
            return 0;
        }));
        return cmd;
    }
}
