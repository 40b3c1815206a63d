using k8s.Models;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// kubelet's resource helper PodLimits for one resource: the regular containers' limits plus the sidecars' (init
/// containers with <c>restartPolicy: Always</c>), or an init container's limit with the sidecars started before it
/// when that is larger, plus the pod's overhead. Only containers that declare the resource count; null when none does.
/// Quantities that do not parse count as absent (validation rejects them before a pod gets here).
/// </summary>
public static class PodLimits
{
    /// <summary>The pod's limit of <paramref name="resource"/> in its base unit (bytes, cores), or null.</summary>
    public static decimal? Of(V1Pod pod, string resource)
    {
        decimal? containers = null;
        foreach (var c in pod.Spec?.Containers ?? [])
        {
            containers = Add(containers, LimitOf(c, resource));
        }

        decimal? sidecars = null, inits = null;
        foreach (var c in pod.Spec?.InitContainers ?? [])
        {
            var limit = LimitOf(c, resource);
            if (c?.RestartPolicy == "Always")
            {
                sidecars = Add(sidecars, limit);
                containers = Add(containers, limit);
            }
            else if (limit is not null)
            {
                var withSidecars = Add(sidecars, limit);
                inits = inits is null || withSidecars > inits ? withSidecars : inits;
            }
        }

        var total = containers is null ? inits : inits is null ? containers : Math.Max(containers.Value, inits.Value);
        return total is null ? null : Add(total, Parse(pod.Spec?.Overhead, resource));
    }

    /// <summary>True when every container (init ones too) declares a nonzero limit of <paramref name="resource"/>
    /// (kubelet's ResourceConfigForPod sets the pod cgroup's memory limit only then).</summary>
    public static bool AllDeclare(V1Pod pod, string resource) =>
        (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? []).All(c => LimitOf(c, resource) is > 0);

    /// <summary>The container's limit of <paramref name="resource"/>, or null.</summary>
    public static decimal? LimitOf(V1Container? container, string resource) => Parse(container?.Resources?.Limits, resource);

    private static decimal? Parse(IDictionary<string, ResourceQuantity>? map, string resource)
    {
        if (map is null || !map.TryGetValue(resource, out var q) || q is null)
        {
            return null;
        }

        try
        {
            return q.ToDecimal();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException or NullReferenceException or InvalidOperationException)
        {
            return null;
        }
    }

    private static decimal? Add(decimal? a, decimal? b)
    {
        if (a is null)
        {
            return b;
        }

        if (b is null)
        {
            return a;
        }

        try
        {
            return a.Value + b.Value;
        }
        catch (OverflowException)
        {
            return decimal.MaxValue;
        }
    }
}
