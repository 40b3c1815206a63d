using k8s.Models;

namespace NodeAgent.Kubelet.Pods;

/// <summary>Why a pod was not admitted, in kubelet's words (reason and message become the pod's status).</summary>
public sealed record AdmissionRejection(string Reason, string Message);

/// <summary>
/// kubelet's admission of a new pod against the node, in kubelet's order: its sysctls against the allowlist
/// (<see cref="SysctlAllowlist"/>, an admit handler kubelet runs before the predicates), then lifecycle/predicate.go's
/// generalFilter: the pod count (<c>--max-pods</c>; reason <c>OutOfpods</c>, as the resource-fit check reports it), the node name
/// (<c>NodeName</c>: a pod bound to another node), host ports (the scheduler's NodePorts filter: reason
/// <c>NodePorts</c>, message "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod
/// ports"), the node selector and required node affinity against the node's labels (<c>NodeAffinity</c>), then a
/// <c>runtimeClassName</c> the node has no handler for (NodeAgent has only its own runtime). A rejected pod fails
/// and never runs.
/// </summary>
public sealed class PodAdmission(int maxPods, string? nodeName = null, Func<IDictionary<string, string>>? nodeLabels = null, SysctlAllowlist? sysctls = null)
{
    private readonly SysctlAllowlist _sysctls = sysctls ?? new SysctlAllowlist([]);

    public const string NodePortsReason = "NodePorts";
    public const string NodePortsMessage = "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports";

    private const string AnyAddress = "0.0.0.0";

    public int MaxPods { get; } = maxPods;

    /// <summary>Null when <paramref name="pod"/> fits next to the <paramref name="activePods"/> already admitted.</summary>
    public AdmissionRejection? Admit(V1Pod pod, IReadOnlyCollection<V1Pod> activePods)
    {
        if (_sysctls.Admit(pod) is { } forbidden)
        {
            return forbidden;
        }

        if (activePods.Count + 1L > MaxPods)
        {
            return new AdmissionRejection("OutOfpods",
                $"Node didn't have enough resource: pods, requested: 1, used: {activePods.Count}, capacity: {MaxPods}");
        }

        if (nodeName is not null && pod.Spec?.NodeName is { Length: > 0 } bound && bound != nodeName)
        {
            return new AdmissionRejection("NodeName", "Predicate NodeName failed: node(s) didn't match the requested node name");
        }

        var wanted = HostPorts(pod).ToList();
        if (wanted.Count > 0)
        {
            var used = activePods.SelectMany(HostPorts).ToList();
            if (wanted.Any(w => used.Any(u => Conflicts(w, u))))
            {
                return new AdmissionRejection(NodePortsReason, NodePortsMessage);
            }
        }

        if (nodeLabels is not null && !NodeAffinity.Matches(pod, nodeName ?? "", nodeLabels()))
        {
            return new AdmissionRejection("NodeAffinity", "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector");
        }

        if (pod.Spec?.RuntimeClassName is { Length: > 0 } runtimeClass)
        {
            return new AdmissionRejection("UnknownRuntimeClass",
                $"RuntimeClass \"{runtimeClass}\" has no handler on this node: NodeAgent runs every pod with its own runtime; remove runtimeClassName");
        }

        return null;
    }

    /// <summary>The pod's (protocol, hostIP, hostPort) triples, as the scheduler's GetHostPorts reads them; an empty
    /// hostIP binds every address.</summary>
    private static IEnumerable<(string Protocol, string Ip, int Port)> HostPorts(V1Pod pod) =>
        (pod.Spec?.Containers ?? [])
            .SelectMany(c => c?.Ports ?? [])
            .Where(p => p is { HostPort: > 0 })
            .Select(p => (string.IsNullOrEmpty(p.Protocol) ? "TCP" : p.Protocol, string.IsNullOrEmpty(p.HostIP) ? AnyAddress : p.HostIP, p.HostPort!.Value));

    /// <summary>HostPortInfo.CheckConflict: same protocol and port, and the same address or either binds all.</summary>
    private static bool Conflicts((string Protocol, string Ip, int Port) a, (string Protocol, string Ip, int Port) b) =>
        a.Port == b.Port
        && string.Equals(a.Protocol, b.Protocol, StringComparison.Ordinal)
        && (a.Ip == b.Ip || a.Ip == AnyAddress || b.Ip == AnyAddress);
}
