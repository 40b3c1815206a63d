namespace NodeAgent.ContainerSpec;

/// <summary>A mount inside the container. Type <c>bind</c> binds Source; other types mount a filesystem.</summary>
public sealed class MountSpec
{
    public required string Destination { get; set; }

    public required string Type { get; set; }

    public string? Source { get; set; }

    /// <summary>mount(8)-style options: ro, nosuid, nodev, noexec, rbind, rprivate…, and filesystem data such as mode=755.</summary>
    public List<string> Options { get; set; } = [];
}
