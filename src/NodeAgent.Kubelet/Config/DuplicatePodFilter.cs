using k8s.Models;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// Drops pods whose namespace/name was already seen in the same snapshot, keeping the first, as kubelet's
/// <c>filterInvalidPods</c> does; each dropped pod yields an error naming both origins.
/// </summary>
internal static class DuplicatePodFilter
{
    public static List<V1Pod> Filter(IEnumerable<(V1Pod Pod, string Origin)> pods, List<ManifestError> errors)
    {
        var firstOrigin = new Dictionary<string, string>(StringComparer.Ordinal);
        var kept = new List<V1Pod>();
        foreach (var (pod, origin) in pods)
        {
            var fullName = $"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}";
            if (firstOrigin.TryGetValue(fullName, out var first))
            {
                errors.Add(new ManifestError(origin, null, null, $"pod \"{fullName}\"", "metadata.name",
                    $"Duplicate value: \"{fullName}\": already defined in {first}; ignoring this pod"));
                continue;
            }

            firstOrigin.Add(fullName, origin);
            kept.Add(pod);
        }

        return kept;
    }
}
