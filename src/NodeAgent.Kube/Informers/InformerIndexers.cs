using k8s.Models;

namespace NodeAgent.Kube.Informers;

/// <summary>The usual index functions.</summary>
public static class InformerIndexers
{
    public const string Namespace = "namespace";
    public const string NodeName = "nodeName";

    public static IEnumerable<string> ByNamespace<T>(T obj) where T : k8s.IKubernetesObject<V1ObjectMeta> =>
        obj.Metadata?.NamespaceProperty is { Length: > 0 } ns ? [ns] : [];

    public static IEnumerable<string> PodByNodeName(V1Pod pod) =>
        pod.Spec?.NodeName is { Length: > 0 } node ? [node] : [];
}
