using k8s.Models;

namespace NodeAgent.Kubelet.Pods;

/// <summary>kubelet's per-pod names: log directory and full name.</summary>
public static class PodPaths
{
    /// <summary><c>/var/log/pods/&lt;namespace&gt;_&lt;name&gt;_&lt;uid&gt;</c>, as kubelet lays out container logs.</summary>
    public static string LogDirectory(string podLogRoot, V1Pod pod) =>
        Path.Combine(podLogRoot, $"{pod.Metadata.NamespaceProperty}_{pod.Metadata.Name}_{pod.Metadata.Uid}");

    /// <summary>
    /// Removes the pod's log directory, as kubelet's container GC does for pods that are gone. Parts that could
    /// leave <paramref name="podLogRoot"/> (a UID of <c>..</c>, a slash, a NUL; from an old agent's labels or a
    /// manifest not validated) are refused: nothing is removed and false is returned.
    /// </summary>
    public static bool RemoveLogDirectory(string podLogRoot, string? @namespace, string? name, string? uid)
    {
        if (string.IsNullOrEmpty(podLogRoot) || !IsPathComponent(@namespace) || !IsPathComponent(name) || !IsPathComponent(uid))
        {
            return false;
        }

        var dir = Path.Combine(podLogRoot, $"{@namespace}_{name}_{uid}");
        if (!IsPathComponent(Path.GetFileName(dir)) || Path.GetDirectoryName(dir) != Path.TrimEndingDirectorySeparator(podLogRoot))
        {
            return false;
        }

        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone (the runtime removes it with the sandbox).
        }

        return true;
    }

    /// <inheritdoc cref="RemoveLogDirectory(string, string?, string?, string?)"/>
    public static bool RemoveLogDirectory(string podLogRoot, V1Pod pod) =>
        RemoveLogDirectory(podLogRoot, pod.Metadata?.NamespaceProperty, pod.Metadata?.Name, pod.Metadata?.Uid);

    /// <summary>True for a non-empty single path component: no slash, no NUL, not <c>.</c> or <c>..</c>.</summary>
    public static bool IsPathComponent(string? part) =>
        !string.IsNullOrEmpty(part) && part is not ("." or "..") && part.IndexOfAny(['/', '\0']) < 0;

    /// <summary><c>&lt;container&gt;/&lt;restartCount&gt;.log</c> relative to the pod's log directory.</summary>
    public static string ContainerLog(string container, uint attempt) => Path.Combine(container, $"{attempt}.log");

    /// <summary><c>name_namespace(uid)</c>, the form kubelet uses in messages.</summary>
    public static string FullName(V1Pod pod) => $"{pod.Metadata.Name}_{pod.Metadata.NamespaceProperty}({pod.Metadata.Uid})";
}
