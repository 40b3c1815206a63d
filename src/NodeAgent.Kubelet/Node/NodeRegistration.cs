using k8s.Models;

namespace NodeAgent.Kubelet.Node;

/// <summary>kubelet's registration flags: <c>--register-node</c>, <c>--node-labels</c>, <c>--register-with-taints</c>.</summary>
public sealed record NodeRegistration
{
    public bool RegisterNode { get; init; } = true;

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<V1Taint> Taints { get; init; } = [];

    /// <summary>The labels kubelet sets on its Node (and reconciles on an adopted one).</summary>
    public static Dictionary<string, string> DefaultLabels(string nodeName, string arch) => new(StringComparer.Ordinal)
    {
        ["kubernetes.io/hostname"] = nodeName,
        ["kubernetes.io/os"] = "linux",
        ["kubernetes.io/arch"] = arch,
        ["beta.kubernetes.io/os"] = "linux",
        ["beta.kubernetes.io/arch"] = arch,
    };

    /// <summary>kubelet's annotation on the nodes it registers.</summary>
    public const string AttachDetachAnnotation = "volumes.kubernetes.io/controller-managed-attach-detach";
}
