using k8s.Models;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>kubelet's translateMountPropagation: a volumeMount's <c>mountPropagation</c> as the CRI's propagation
/// (unset and None are private, HostToContainer is rslave, Bidirectional rshared for privileged containers only).</summary>
public static class MountPropagations
{
    /// <summary>The API server's validation message for Bidirectional in a container that is not privileged.</summary>
    public const string BidirectionalNeedsPrivileged = "Bidirectional mount propagation is available only to privileged containers";

    /// <exception cref="ContainerConfigException">An unknown mode, or Bidirectional in an unprivileged container.</exception>
    public static MountPropagation For(V1VolumeMount mount, V1Container container) => mount.MountPropagation switch
    {
        null or "" or "None" => MountPropagation.Private,
        "HostToContainer" => MountPropagation.HostToContainer,
        "Bidirectional" when container.SecurityContext?.Privileged == true => MountPropagation.Bidirectional,
        "Bidirectional" => throw new ContainerConfigException($"volumeMount {mount.Name}: {BidirectionalNeedsPrivileged}"),
        var other => throw new ContainerConfigException($"invalid MountPropagation mode: \"{other}\""),
    };
}
