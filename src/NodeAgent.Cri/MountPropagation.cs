namespace NodeAgent.Cri;

/// <summary>The CRI's MountPropagation: PROPAGATION_PRIVATE (rprivate), PROPAGATION_HOST_TO_CONTAINER (rslave: mounts
/// made on the host below the source appear in the container) and PROPAGATION_BIDIRECTIONAL (rshared: also the
/// other way; privileged containers only).</summary>
public enum MountPropagation
{
    Private,
    HostToContainer,
    Bidirectional,
}
