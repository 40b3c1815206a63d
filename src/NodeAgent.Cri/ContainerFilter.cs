namespace NodeAgent.Cri;

/// <summary>The CRI's ContainerFilter: every field that is set must match (null fields match everything).</summary>
public sealed record ContainerFilter
{
    public string? Id { get; init; }

    public ContainerState? State { get; init; }

    public string? PodSandboxId { get; init; }

    /// <summary>Labels the container must carry with these exact values (e.g. <c>io.kubernetes.pod.uid</c>).</summary>
    public IReadOnlyDictionary<string, string>? LabelSelector { get; init; }
}
