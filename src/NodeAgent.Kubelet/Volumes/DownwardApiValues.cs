using k8s.Models;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Kubelet.Volumes;

/// <summary>
/// The downward API as a volume file (kubelet's <c>fieldpath.ExtractFieldPathAsString</c>): metadata.name,
/// metadata.namespace, metadata.uid, metadata.labels and metadata.annotations (all of them, one <c>key="value"</c>
/// line each, sorted, values quoted as Go's %q for
/// quotes, backslashes and control characters), and one label or annotation (<c>metadata.labels['k']</c>).
/// </summary>
public static class DownwardApiValues
{
    /// <exception cref="VolumeException">A field path the downward API volume does not support.</exception>
    public static string Field(V1Pod pod, string? path)
    {
        var meta = pod.Metadata;
        if (TryKey(path, "metadata.labels", out var label))
        {
            return meta.Labels?.TryGetValue(label, out var v) == true ? v ?? string.Empty : string.Empty;
        }

        if (TryKey(path, "metadata.annotations", out var annotation))
        {
            return meta.Annotations?.TryGetValue(annotation, out var v) == true ? v ?? string.Empty : string.Empty;
        }

        return path switch
        {
            "metadata.name" => meta.Name ?? string.Empty,
            "metadata.namespace" => meta.NamespaceProperty ?? "default",
            "metadata.uid" => meta.Uid ?? string.Empty,
            "metadata.labels" => FormatMap(meta.Labels),
            "metadata.annotations" => FormatMap(meta.Annotations),
            _ => throw new VolumeException($"unsupported fieldPath: {path}"),
        };
    }

    /// <summary>kubelet's FormatMap: <c>key="value"</c> lines in key order, no trailing newline.</summary>
    public static string FormatMap(IDictionary<string, string>? map)
    {
        if (map is null || map.Count == 0)
        {
            return string.Empty;
        }

        return string.Join('\n', map.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + ValueText.Quote(kv.Value ?? string.Empty, int.MaxValue)));
    }

    /// <summary>A resourceFieldRef item: the container must be named (the volume belongs to no container).</summary>
    /// <exception cref="VolumeException">No or an unknown container, or an unsupported resource.</exception>
    public static string Resource(V1Pod pod, V1ResourceFieldSelector selector)
    {
        var container = pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []).FirstOrDefault(c => c.Name == selector.ContainerName)
            ?? throw new VolumeException($"resourceFieldRef {selector.Resource}: container \"{selector.ContainerName}\" not found in the pod");
        try
        {
            return EnvResolver.Resource(pod, container, selector, "resourceFieldRef");
        }
        catch (ContainerConfigException e)
        {
            throw new VolumeException(e.Message);
        }
    }

    private static bool TryKey(string? path, string prefix, out string key)
    {
        key = string.Empty;
        if (path is not null && path.StartsWith(prefix + "['", StringComparison.Ordinal) && path.EndsWith("']", StringComparison.Ordinal) && path.Length >= prefix.Length + 4)
        {
            key = path[(prefix.Length + 2)..^2];
            return true;
        }

        return false;
    }
}
