namespace NodeAgent.Runtime;

/// <summary>Where the runtime keeps its state and how it supervises containers.</summary>
public sealed record RuntimeOptions
{
    /// <summary>State directory (<c>--root-dir</c>).</summary>
    public string RootDir { get; init; } = "/var/lib/nodeagent";

    /// <summary>Path of the AOT-compiled <c>nodeagent-shim</c>; by default beside the running executable.</summary>
    public string ShimPath { get; init; } = DefaultShimPath();

    public long ContainerLogMaxSizeBytes { get; init; } = 10 * 1024 * 1024;

    public int ContainerLogMaxFiles { get; init; } = 5;

    /// <summary>
    /// Keep one exec server per container that is exec'd into (the agent: probes exec every period), instead of a
    /// one-shot helper per exec (the CLI, which execs once and exits).
    /// </summary>
    public bool ResidentExecServers { get; init; }

    public static string DefaultShimPath()
    {
        var fromEnv = Environment.GetEnvironmentVariable("NODEAGENT_SHIM");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return fromEnv;
        }

        return Path.Combine(AppContext.BaseDirectory, "nodeagent-shim");
    }
}
