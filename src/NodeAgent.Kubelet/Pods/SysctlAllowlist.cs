using k8s.Models;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// kubelet's sysctl admission (pkg/kubelet/sysctl): the safe sysctls plus the node's
/// <c>--allowed-unsafe-sysctls</c> (names, or patterns ending in <c>*</c>), each of which must be known to be
/// namespaced. A pod that sets any other sysctl, or a network one with hostNetwork (an IPC one with hostIPC), is
/// rejected: phase Failed, reason <c>SysctlForbidden</c>, message <c>forbidden sysctl: …</c>.
/// </summary>
public sealed class SysctlAllowlist
{
    public const string ForbiddenReason = "SysctlForbidden";

    /// <summary>kubelet's safe set (all namespaced and isolated per pod); every one of them needs a kernel older
    /// than those NodeAgent runs on, so none is dropped by kernel version.</summary>
    public static readonly IReadOnlyList<string> Safe =
    [
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
    ];

    private readonly Dictionary<string, SysctlNamespace> _names = new(StringComparer.Ordinal);
    private readonly List<(string Prefix, SysctlNamespace Namespace)> _prefixes = [];

    /// <param name="allowedUnsafe">The node's <c>allowedUnsafeSysctls</c>.</param>
    /// <exception cref="ArgumentException">A pattern that is not valid, or not known to be namespaced (kubelet refuses to start).</exception>
    public SysctlAllowlist(IEnumerable<string> allowedUnsafe)
    {
        foreach (var pattern in Safe.Concat(allowedUnsafe))
        {
            if (!SysctlNames.IsValidPattern(pattern))
            {
                throw new ArgumentException($"sysctl \"{pattern}\" must have at most {SysctlNames.MaxLength} characters and match regex {SysctlNames.PatternRegex}");
            }

            var dotted = SysctlNames.ToDotted(pattern);
            if (dotted.EndsWith('*'))
            {
                var prefix = dotted[..^1];
                var ns = SysctlNames.NamespaceOf(prefix);
                _prefixes.Add(ns == SysctlNamespace.Unknown
                    ? throw new ArgumentException($"the sysctls \"{dotted}\" are not known to be namespaced")
                    : (prefix, ns));
            }
            else
            {
                var ns = SysctlNames.NamespaceOf(dotted);
                _names[dotted] = ns == SysctlNamespace.Unknown
                    ? throw new ArgumentException($"the sysctl \"{dotted}\" are not known to be namespaced")
                    : ns;
            }
        }
    }

    /// <summary>Null when the pod's sysctls are all allowed here.</summary>
    public AdmissionRejection? Admit(V1Pod pod)
    {
        foreach (var sysctl in pod.Spec?.SecurityContext?.Sysctls ?? [])
        {
            if (sysctl?.Name is { } name && Check(name, pod.Spec!.HostNetwork == true, pod.Spec.HostIPC == true) is { } why)
            {
                return new AdmissionRejection(ForbiddenReason, "forbidden sysctl: " + why);
            }
        }

        return null;
    }

    /// <summary>kubelet's validateSysctl: null when allowed, otherwise the reason.</summary>
    public string? Check(string name, bool hostNetwork, bool hostIpc)
    {
        var dotted = SysctlNames.ToDotted(name);
        SysctlNamespace? ns = _names.TryGetValue(dotted, out var exact) ? exact : null;
        ns ??= _prefixes.Where(p => dotted.StartsWith(p.Prefix, StringComparison.Ordinal)).Select(p => (SysctlNamespace?)p.Namespace).FirstOrDefault();
        return ns switch
        {
            null => $"\"{dotted}\" not allowlisted",
            SysctlNamespace.Ipc when hostIpc => $"\"{dotted}\" not allowed with host ipc enabled",
            SysctlNamespace.Net when hostNetwork => $"\"{dotted}\" not allowed with host net enabled",
            _ => null,
        };
    }
}
