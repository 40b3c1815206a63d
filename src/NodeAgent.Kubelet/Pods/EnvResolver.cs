using System.Globalization;
using k8s.Models;

namespace NodeAgent.Kubelet.Pods;

/// <summary>An env var kubelet would refuse to build the container with (its <c>CreateContainerConfigError</c>).</summary>
public sealed class ContainerConfigException(string message) : Exception(message);

/// <summary>What the downward API reads that is not in the pod spec: the addresses the pod got.</summary>
public sealed record PodEnvContext(string? HostIp, IReadOnlyList<string> PodIps)
{
    public static PodEnvContext Empty { get; } = new(null, []);
}

/// <summary>
/// A container's environment as kubelet builds it: literal values, and <c>valueFrom</c> through the downward API
/// (<c>fieldRef</c>: metadata.name/namespace/uid/labels['k']/annotations['k'], spec.nodeName,
/// spec.serviceAccountName, status.hostIP(s), status.podIP(s); <c>resourceFieldRef</c>: limits and requests of cpu,
/// memory and ephemeral-storage with a divisor). Static pods have no API server, so a required
/// <c>secretKeyRef</c>/<c>configMapKeyRef</c> fails the container with a clear message; an optional one is left out.
/// </summary>
public static class EnvResolver
{
    public static List<KeyValuePair<string, string>> Resolve(V1Pod pod, V1Container container, PodEnvContext context)
    {
        var env = new List<KeyValuePair<string, string>>();
        // kubelet's makeEnvironmentVariables: a literal value may refer to the variables defined before it.
        var defined = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in container.Env ?? [])
        {
            if (e.ValueFrom is null)
            {
                var value = EnvExpansion.Expand(e.Value ?? string.Empty, n => defined.TryGetValue(n, out var v) ? v : null);
                env.Add(new(e.Name, value));
                defined[e.Name] = value;
                continue;
            }

            var from = e.ValueFrom;
            if (from.FieldRef is { } field)
            {
                var value = Field(pod, field.FieldPath, context, e.Name);
                env.Add(new(e.Name, value));
                defined[e.Name] = value;
            }
            else if (from.ResourceFieldRef is { } resource)
            {
                var value = Resource(pod, container, resource, e.Name);
                env.Add(new(e.Name, value));
                defined[e.Name] = value;
            }
            else if (from.SecretKeyRef is { } secret)
            {
                if (secret.Optional != true)
                {
                    throw new ContainerConfigException(
                        $"env {e.Name}: secret \"{secret.Name}\" key \"{secret.Key}\" cannot be read: static pods have no API server to read secrets from");
                }
            }
            else if (from.ConfigMapKeyRef is { } configMap)
            {
                if (configMap.Optional != true)
                {
                    throw new ContainerConfigException(
                        $"env {e.Name}: configmap \"{configMap.Name}\" key \"{configMap.Key}\" cannot be read: static pods have no API server to read config maps from");
                }
            }
            else
            {
                throw new ContainerConfigException($"env {e.Name}: valueFrom names no source");
            }
        }

        return env;
    }

    private static string Field(V1Pod pod, string path, PodEnvContext context, string name)
    {
        var meta = pod.Metadata;
        if (TryKey(path, "metadata.labels", out var label))
        {
            return meta.Labels?.TryGetValue(label, out var v) == true ? v : string.Empty;
        }

        if (TryKey(path, "metadata.annotations", out var annotation))
        {
            return meta.Annotations?.TryGetValue(annotation, out var v) == true ? v : string.Empty;
        }

        return path switch
        {
            "metadata.name" => meta.Name,
            "metadata.namespace" => meta.NamespaceProperty ?? "default",
            "metadata.uid" => meta.Uid,
            "spec.nodeName" => pod.Spec.NodeName ?? string.Empty,
            "spec.serviceAccountName" => pod.Spec.ServiceAccountName ?? string.Empty,
            "status.hostIP" => context.HostIp ?? string.Empty,
            "status.hostIPs" => context.HostIp ?? string.Empty,
            "status.podIP" => pod.Spec.HostNetwork == true ? context.HostIp ?? string.Empty : context.PodIps.FirstOrDefault() ?? string.Empty,
            "status.podIPs" => pod.Spec.HostNetwork == true ? context.HostIp ?? string.Empty : string.Join(',', context.PodIps),
            _ => throw new ContainerConfigException($"env {name}: unsupported fieldRef \"{path}\""),
        };
    }

    private static bool TryKey(string path, string prefix, out string key)
    {
        key = string.Empty;
        if (path.StartsWith(prefix + "['", StringComparison.Ordinal) && path.EndsWith("']", StringComparison.Ordinal))
        {
            key = path[(prefix.Length + 2)..^2];
            return true;
        }

        return false;
    }

    private static string Resource(V1Pod pod, V1Container target, V1ResourceFieldSelector selector, string name)
    {
        var container = selector.ContainerName is { Length: > 0 } c
            ? pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []).FirstOrDefault(x => x.Name == c)
                ?? throw new ContainerConfigException($"env {name}: resourceFieldRef names unknown container \"{c}\"")
            : target;
        var parts = selector.Resource.Split('.', 2);
        if (parts.Length != 2 || parts[0] is not ("limits" or "requests") || parts[1] is not ("cpu" or "memory" or "ephemeral-storage"))
        {
            throw new ContainerConfigException($"env {name}: unsupported resourceFieldRef \"{selector.Resource}\"");
        }

        var map = parts[0] == "limits" ? container.Resources?.Limits : container.Resources?.Requests;
        decimal value;
        if (map?.TryGetValue(parts[1], out var q) == true)
        {
            value = q.ToDecimal();
        }
        else if (parts[0] == "requests" && container.Resources?.Limits?.TryGetValue(parts[1], out var limit) == true)
        {
            value = limit.ToDecimal();
        }
        else
        {
            // kubelet reports node allocatable for an unset limit; this agent does not track allocatable yet, so
            // the host's CPU count or memory stands in for it.
            value = parts[1] switch
            {
                "cpu" => Environment.ProcessorCount,
                "memory" => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
                _ => 0,
            };
        }

        var divisor = selector.Divisor?.ToDecimal() is { } d and > 0 ? d : 1m;
        // Like kubelet: the result is rounded up to a whole number of divisors.
        return decimal.Ceiling(value / divisor).ToString(CultureInfo.InvariantCulture);
    }
}
