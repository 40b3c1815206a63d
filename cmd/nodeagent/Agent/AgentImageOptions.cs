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
/// <c>--image-gc-high-threshold</c> / <c>--image-gc-low-threshold</c> (or the <c>--config</c> file's
/// <c>imageGCHighThresholdPercent</c> / <c>imageGCLowThresholdPercent</c>); registers the <see cref="ImagePuller"/>
/// (for the kubelet's image manager) and the periodic <see cref="ImageGcService"/>.
/// </summary>
internal static class AgentImageOptions
{
    public static readonly Option<string?> RegistryConfig = ImagePullCommands.RegistryConfigOption();

    public static readonly Option<int> HighThreshold = new("--image-gc-high-threshold")
    {
        Description = "Disk usage percent of the image filesystem at which image GC starts (kubelet's flag; 100 disables GC)",
        DefaultValueFactory = _ => 85,
    };

    public static readonly Option<int> LowThreshold = new("--image-gc-low-threshold")
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

    /// <summary>Registers the puller, the collector and its periodic service for the resolved options.</summary>
    public static void Register(IServiceCollection services, AgentOptions options)
    {
        var policy = options.ImageGc;
        policy.Validate();
        var config = ImagePullCommands.LoadRegistryConfig(options.RegistryConfig);
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
