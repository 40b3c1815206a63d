namespace NodeAgent.Images;

/// <summary>The parts of an OCI/Docker image config that decide how a container runs.</summary>
public sealed record ImageConfig
{
    public IReadOnlyList<string>? Entrypoint { get; init; }
    public IReadOnlyList<string>? Cmd { get; init; }
    public IReadOnlyList<string> Env { get; init; } = [];
    public string? WorkingDir { get; init; }
    public string? User { get; init; }
    public string? StopSignal { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public string Os { get; init; } = "linux";
    public string Architecture { get; init; } = "amd64";
}
