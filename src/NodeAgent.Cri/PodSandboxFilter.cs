namespace NodeAgent.Cri;

/// <summary>The CRI's PodSandboxFilter: every field that is set must match (null fields match everything).</summary>
public sealed record PodSandboxFilter
{
    public string? Id { get; init; }

    public SandboxState? State { get; init; }

    /// <summary>Labels the sandbox must carry with these exact values (e.g. <c>io.kubernetes.pod.uid</c>).</summary>
    public IReadOnlyDictionary<string, string>? LabelSelector { get; init; }
}
