using k8s.Models;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// A pod's QoS class, computed the way Kubernetes does (requests and limits of cpu and memory). Never throws: a
/// null quantity counts as absent, one too large for a decimal (<c>1e400</c>) or unparsable counts as present and
/// larger than any other, and sums saturate, so one odd value cannot break status building or <c>/pods</c>.
/// </summary>
public static class QosClassifier
{
    private static readonly string[] Supported = ["cpu", "memory"];

    public static QosClass Classify(V1Pod pod)
    {
        var containers = (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? []).Where(c => c is not null).ToList();
        var requests = new HashSet<string>(StringComparer.Ordinal);
        var limits = new HashSet<string>(StringComparer.Ordinal);
        var isGuaranteed = true;
        foreach (var c in containers)
        {
            var containerLimits = 0;
            foreach (var name in Supported)
            {
                if (NonZero(c.Resources?.Requests, name) is not null)
                {
                    requests.Add(name);
                }

                if (NonZero(c.Resources?.Limits, name) is not null)
                {
                    containerLimits++;
                    limits.Add(name);
                }
            }

            if (containerLimits != Supported.Length)
            {
                isGuaranteed = false;
            }
        }

        if (requests.Count == 0 && limits.Count == 0)
        {
            return QosClass.BestEffort;
        }

        if (isGuaranteed)
        {
            // Requests default to limits; any explicit request other than its limit makes the pod Burstable.
            foreach (var c in containers)
            {
                foreach (var name in Supported)
                {
                    if (Value(c.Resources?.Requests, name) is { } r && Value(c.Resources?.Limits, name) is { } l && !r.Equals(l))
                    {
                        return QosClass.Burstable;
                    }
                }
            }

            return QosClass.Guaranteed;
        }

        return QosClass.Burstable;
    }

    private static Amount? NonZero(IDictionary<string, ResourceQuantity>? list, string name) =>
        Value(list, name) is { } v && !v.IsZero ? v : null;

    /// <summary>The quantity's value, or null when absent; never throws.</summary>
    private static Amount? Value(IDictionary<string, ResourceQuantity>? list, string name)
    {
        if (list is null || !list.TryGetValue(name, out var q) || q is null)
        {
            return null;
        }

        try
        {
            return new Amount(q.ToDecimal(), null);
        }
        catch (Exception e) when (e is OverflowException or FormatException or ArgumentException or NullReferenceException or InvalidOperationException)
        {
            // Out of a decimal's range or not a quantity: present, compared by its text.
            return new Amount(null, Text(q));
        }
    }

    private static string Text(ResourceQuantity q)
    {
        try
        {
            return q.ToString() ?? string.Empty;
        }
        catch (Exception e) when (e is OverflowException or FormatException or ArgumentException or NullReferenceException or InvalidOperationException)
        {
            return "?";
        }
    }

    private readonly record struct Amount(decimal? Number, string? Text)
    {
        public bool IsZero => Number == 0m;
    }
}
