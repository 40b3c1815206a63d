namespace NodeAgent.ContainerSpec;

/// <summary>Where the shim writes the container's stdout and stderr in CRI format, and when it rotates.</summary>
public sealed class LogSpec
{
    public required string Path { get; set; }

    public long MaxSizeBytes { get; set; } = 10 * 1024 * 1024;

    public int MaxFiles { get; set; } = 5;
}
