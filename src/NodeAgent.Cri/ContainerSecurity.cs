namespace NodeAgent.Cri;

/// <summary>The securityContext fields the runtime applies.</summary>
public sealed record ContainerSecurity
{
    public long? RunAsUser { get; init; }

    public long? RunAsGroup { get; init; }

    /// <summary>runAsNonRoot (pod or container level): the runtime refuses to create the container when its user
    /// would be root, with kubelet's verifyRunAsNonRoot messages (CreateContainerConfigError).</summary>
    public bool RunAsNonRoot { get; init; }

    /// <summary>The pod's fsGroup (first) and supplementalGroups, as kubelet passes them.</summary>
    public IReadOnlyList<long> SupplementalGroups { get; init; } = [];

    public bool Privileged { get; init; }

    public IReadOnlyList<string> AddCapabilities { get; init; } = [];

    public IReadOnlyList<string> DropCapabilities { get; init; } = [];

    /// <summary>allowPrivilegeEscalation: false sets no_new_privs.</summary>
    public bool NoNewPrivileges { get; init; }

    public bool ReadOnlyRootFilesystem { get; init; }

    /// <summary>The CRI's <c>SecurityProfile</c> for seccomp; privileged containers are never filtered.</summary>
    public SeccompProfile Seccomp { get; init; } = SeccompProfile.Unconfined;
}
