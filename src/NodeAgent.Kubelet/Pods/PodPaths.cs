using k8s.Models;

namespace NodeAgent.Kubelet.Pods;

/// <summary>kubelet's per-pod names: log directory and full name.</summary>
public static class PodPaths
{
    /// <summary><c>/var/log/pods/&lt;namespace&gt;_&lt;name&gt;_&lt;uid&gt;</c>, as kubelet lays out container logs.</summary>
    public static string LogDirectory(string podLogRoot, V1Pod pod) =>
        Path.Combine(podLogRoot, $"{pod.Metadata.NamespaceProperty}_{pod.Metadata.Name}_{pod.Metadata.Uid}");

    /// <summary><c>&lt;container&gt;/&lt;restartCount&gt;.log</c> relative to the pod's log directory.</summary>
    public static string ContainerLog(string container, uint attempt) => Path.Combine(container, $"{attempt}.log");

    /// <summary><c>name_namespace(uid)</c>, the form kubelet uses in messages.</summary>
    public static string FullName(V1Pod pod) => $"{pod.Metadata.Name}_{pod.Metadata.NamespaceProperty}({pod.Metadata.Uid})";
}
