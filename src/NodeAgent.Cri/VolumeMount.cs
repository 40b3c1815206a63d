namespace NodeAgent.Cri;

/// <summary>
/// A host path bound into the container. With <see cref="SubPath"/>, <see cref="HostPath"/> is the volume's directory
/// and the runtime mounts <c>SubPath</c> beneath it, resolved without following symlinks out of the volume (the
/// volume's content is the container's to write, so the kubelet cannot safely resolve it).
/// </summary>
public sealed record VolumeMount(string HostPath, string ContainerPath, bool ReadOnly = false)
{
    /// <summary>Kubernetes <c>volumeMounts[].subPath</c>: a relative path without <c>..</c>; missing directories are created.</summary>
    public string? SubPath { get; init; }

    /// <summary>The CRI's mount propagation (Kubernetes <c>volumeMounts[].mountPropagation</c>): None is
    /// <see cref="MountPropagation.Private"/>.</summary>
    public MountPropagation Propagation { get; init; }

    /// <summary>The <c>volumeMounts[].name</c>, for messages (kubelet's "failed to prepare subPath for volumeMount …").</summary>
    public string? Name { get; init; }
}
