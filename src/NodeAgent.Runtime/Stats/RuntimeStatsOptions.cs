namespace NodeAgent.Runtime.Stats;

/// <summary>How often the stats service reads.</summary>
public sealed record RuntimeStatsOptions
{
    /// <summary>A snapshot younger than this is served as is (cheap counters: cpu, memory, network, io).</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often writable layers and log directories are measured in the background (cAdvisor's du housekeeping runs about once a minute).</summary>
    public TimeSpan FilesystemInterval { get; init; } = TimeSpan.FromMinutes(1);
}
