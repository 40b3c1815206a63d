using System.Globalization;
using k8s.Models;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Kubelet.Eviction;

/// <summary>
/// kubelet's eviction manager localStorageEviction for one pod, on given usage: first an emptyDir over its
/// <c>sizeLimit</c>, then the pod's total (containers' writable layers and logs, and its local ephemeral volumes:
/// disk emptyDirs and configMaps) over the sum of its containers' <c>ephemeral-storage</c> limits, then a container's
/// writable layer and logs over its own limit. The first that applies is the pod's eviction, with kubelet's signal
/// and message.
/// </summary>
public static class LocalStorageEviction
{
    public const string EmptyDirSignal = "emptydirfs.limit";
    public const string PodSignal = "ephemeralpodfs.limit";
    public const string ContainerSignal = "ephemeralcontainerfs.limit";

    /// <summary>
    /// Whether the pod sets anything this eviction enforces (an emptyDir sizeLimit, an ephemeral-storage limit):
    /// without one no usage can evict it, and its usage need not be read.
    /// </summary>
    public static bool HasLimits(V1Pod pod) =>
        (pod.Spec?.Volumes ?? []).Any(v => v?.EmptyDir?.SizeLimit is { } limit && Value(limit) is > 0)
        || PodLimits.Of(pod, "ephemeral-storage") is not null
        || (pod.Spec?.Containers ?? []).Any(c => c?.Resources?.Limits?.TryGetValue("ephemeral-storage", out var q) == true && q is not null && Value(q) is not (null or 0));

    /// <summary>The eviction the usage calls for, or null.</summary>
    public static EvictionDecision? Decide(V1Pod pod, PodStorageUsage usage) =>
        EmptyDir(pod, usage) ?? Pod(pod, usage) ?? Container(pod, usage);

    private static EvictionDecision? EmptyDir(V1Pod pod, PodStorageUsage usage)
    {
        foreach (var volume in pod.Spec?.Volumes ?? [])
        {
            if (volume?.EmptyDir?.SizeLimit is not { } limit || Value(limit) is not > 0 || !usage.Volumes.TryGetValue(volume.Name, out var used))
            {
                continue;
            }

            if (used > Value(limit))
            {
                return new(EmptyDirSignal, $"Usage of EmptyDir volume {Quote(volume.Name)} exceeds the limit {Quote(Text(limit))}. ");
            }
        }

        return null;
    }

    private static EvictionDecision? Pod(V1Pod pod, PodStorageUsage usage)
    {
        if (PodLimits.Of(pod, "ephemeral-storage") is not { } limit)
        {
            return null;
        }

        // kubelet's pod stats summary: containers (rootfs and logs) and the local ephemeral volumes.
        decimal total = usage.Containers.Sum(c => (decimal)c.Used);
        foreach (var volume in pod.Spec?.Volumes ?? [])
        {
            if (volume is not null && IsLocalEphemeral(volume) && usage.Volumes.TryGetValue(volume.Name, out var used))
            {
                total += used;
            }
        }

        return total > limit
            ? new(PodSignal, $"Pod ephemeral local storage usage exceeds the total limit of containers {Text(limit, FirstFormat(pod))}. ")
            : null;
    }

    private static EvictionDecision? Container(V1Pod pod, PodStorageUsage usage)
    {
        var limits = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        foreach (var c in pod.Spec?.Containers ?? [])
        {
            if (c?.Resources?.Limits?.TryGetValue("ephemeral-storage", out var q) == true && q is not null && Value(q) is not (null or 0))
            {
                limits[c.Name] = q;
            }
        }

        foreach (var c in usage.Containers)
        {
            if (limits.TryGetValue(c.Name, out var limit) && c.Used > Value(limit))
            {
                return new(ContainerSignal, $"Container {c.Name} exceeded its local ephemeral storage limit {Quote(Text(limit))}. ");
            }
        }

        return null;
    }

    /// <summary>kubelet's IsLocalEphemeralVolume: a disk emptyDir, a configMap (and gitRepo, not supported here).</summary>
    private static bool IsLocalEphemeral(V1Volume volume) =>
        volume.ConfigMap is not null || volume.EmptyDir is { Medium: null or "" };

    private static decimal? Value(ResourceQuantity q)
    {
        try
        {
            return q.ToDecimal();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException or NullReferenceException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>A quantity as resource.Quantity's String() writes it (canonical form).</summary>
    private static string Text(ResourceQuantity q)
    {
        try
        {
            return q.CanonicalizeString();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException or NullReferenceException or InvalidOperationException)
        {
            return q.ToString() ?? "";
        }
    }

    /// <summary>A sum in the format of the first quantity added (resource.Quantity's Add keeps the receiver's).</summary>
    private static string Text(decimal value, ResourceQuantity.SuffixFormat format)
    {
        try
        {
            return new ResourceQuantity(value, 0, format).CanonicalizeString();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            return value.ToString(CultureInfo.InvariantCulture);
        }
    }

    private static ResourceQuantity.SuffixFormat FirstFormat(V1Pod pod)
    {
        foreach (var c in (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? []))
        {
            if (c?.Resources?.Limits?.TryGetValue("ephemeral-storage", out var q) == true && q is not null)
            {
                return q.Format;
            }
        }

        return ResourceQuantity.SuffixFormat.BinarySI;
    }

    /// <summary>Go's %q of a plain string (names and quantities have nothing to escape but quotes and backslashes).</summary>
    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
