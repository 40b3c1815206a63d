using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodeAgent.Cli.Commands;
using NodeAgent.Images;
using NodeAgent.Registry;
using NodeAgent.Runtime;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// The agent's image flags and services: <c>--registry-config</c> (k3s registries.yaml format), kubelet's
/// <c>--image-gc-high-threshold</c> / <c>--image-gc-low-threshold</c>; registers the <see cref="ImagePuller"/>
/// (for the kubelet's image manager) and the periodic <see cref="ImageGcService"/>.
/// </summary>
internal static class AgentImageOptions
{
    private static readonly Option<string?> RegistryConfig = ImagePullCommands.RegistryConfigOption();

    private static readonly Option<int> HighThreshold = new("--image-gc-high-threshold")
    {
        Description = "Disk usage percent of the image filesystem at which image GC starts (kubelet's flag; 100 disables GC)",
        DefaultValueFactory = _ => 85,
    };

    private static readonly Option<int> LowThreshold = new("--image-gc-low-threshold")
    {
        Description = "Disk usage percent image GC frees down to (kubelet's flag)",
        DefaultValueFactory = _ => 80,
    };

    public static void AddTo(Command agent)
    {
        agent.Options.Add(RegistryConfig);
        agent.Options.Add(HighThreshold);
        agent.Options.Add(LowThreshold);
    }

    /// <summary>Validates the flags (a bad value stops the agent with a clear message) and registers the services.</summary>
    public static void Register(IServiceCollection services, ParseResult pr)
    {
        var policy = new ImageGcPolicy { HighThresholdPercent = pr.GetValue(HighThreshold), LowThresholdPercent = pr.GetValue(LowThreshold) };
        policy.Validate();
        var config = ImagePullCommands.LoadRegistryConfig(pr.GetValue(RegistryConfig));
        services.AddSingleton(sp => new ImagePuller(sp.GetRequiredService<ImageStore>(), sp.GetRequiredService<OverlaySnapshotter>(), config,
            time: sp.GetRequiredService<TimeProvider>(), logger: sp.GetRequiredService<ILogger<ImagePuller>>()));
        services.AddSingleton<IImagePuller>(sp => sp.GetRequiredService<ImagePuller>());
        services.AddSingleton(sp =>
        {
            var runtime = sp.GetRequiredService<LinuxRuntimeService>();
            return new ImageGarbageCollector(sp.GetRequiredService<ImageStore>(),
                () => runtime.ListContainers().Select(c => c.ImageId).ToHashSet(), policy,
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ImageGarbageCollector>>());
        });
        if (policy.HighThresholdPercent < 100)
        {
            services.AddHostedService(sp => new ImageGcService(sp.GetRequiredService<ImageGarbageCollector>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ImageGcService>>()));
        }
    }
}
