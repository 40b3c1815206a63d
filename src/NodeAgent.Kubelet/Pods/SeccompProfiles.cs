using k8s.Models;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// The CRI seccomp profile of a container, as kubelet's <c>getSeccompProfile</c> computes it: the container's
/// <c>securityContext.seccompProfile</c>, else the pod's, else RuntimeDefault when <c>seccompDefault</c> is on and
/// Unconfined when it is off. A Localhost profile becomes the absolute path of <c>localhostProfile</c> beneath
/// <paramref name="profileRoot"/> (<c>&lt;root-dir&gt;/seccomp</c>, kubelet's <c>/var/lib/kubelet/seccomp</c>); the
/// runtime opens it beneath that directory only. Privileged containers are left to the runtime, which never filters them.
/// </summary>
public sealed class SeccompProfiles(string profileRoot, bool seccompDefault)
{
    public string ProfileRoot { get; } = profileRoot;

    public bool SeccompDefault { get; } = seccompDefault;

    /// <exception cref="ContainerConfigException">Localhost without a localhostProfile (CreateContainerConfigError, as kubelet's error).</exception>
    public SeccompProfile For(V1Pod pod, V1Container container) =>
        container.SecurityContext?.SeccompProfile is { } own ? FromField(own)
        : pod.Spec.SecurityContext?.SeccompProfile is { } podWide ? FromField(podWide)
        : Fallback;

    /// <summary>The container's config with its seccomp profile set.</summary>
    public ContainerConfig Apply(V1Pod pod, V1Container container, ContainerConfig config) =>
        config with { Security = config.Security with { Seccomp = For(pod, container) } };

    private SeccompProfile Fallback => SeccompDefault ? SeccompProfile.RuntimeDefault : SeccompProfile.Unconfined;

    private SeccompProfile FromField(V1SeccompProfile field) => field.Type switch
    {
        "RuntimeDefault" => SeccompProfile.RuntimeDefault,
        "Localhost" => field.LocalhostProfile is { Length: > 0 } local
            ? SeccompProfile.Localhost(Path.Join(ProfileRoot, local))
            : throw new ContainerConfigException("localhostProfile must be set if seccompProfile type is Localhost."),
        _ => SeccompProfile.Unconfined,
    };
}
