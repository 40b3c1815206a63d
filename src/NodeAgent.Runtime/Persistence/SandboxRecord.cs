using NodeAgent.Cri;

namespace NodeAgent.Runtime.Persistence;

/// <summary>A sandbox as persisted in <c>sandbox.json</c>.</summary>
public sealed record SandboxRecord
{
    public required string Id { get; init; }

    public required PodSandboxConfig Config { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public bool Stopped { get; init; }

    public Dictionary<string, string> NamespacePaths { get; init; } = [];

    public string? ShmPath { get; init; }

    /// <summary>PID of the pause process holding a shared PID namespace (shareProcessNamespace), if any.</summary>
    public int? PausePid { get; init; }

    public required string HostnamePath { get; init; }

    public required string HostsPath { get; init; }

    public required string ResolvConfPath { get; init; }

    /// <summary>Addresses the pod network gave the sandbox, kept so a restarted runtime reports them.</summary>
    public List<string> PodIps { get; init; } = [];
}
