using System.Globalization;
using k8s.Models;
using NodeAgent.Kubelet.Volumes;

namespace NodeAgent.Kubelet.Pods;

/// <summary>An env var kubelet would refuse to build the container with (its <c>CreateContainerConfigError</c>).</summary>
public sealed class ContainerConfigException(string message) : Exception(message);

/// <summary>What the downward API reads that is not in the pod spec: the addresses the pod got; and, on a node
/// with an API server, the objects the container's env refers to (<see cref="Api"/>, null for static pods).</summary>
public sealed record PodEnvContext(string? HostIp, IReadOnlyList<string> PodIps)
{
    public static PodEnvContext Empty { get; } = new(null, []);

    /// <summary>Config maps, secrets and service variables read for this container; null: no API server.</summary>
    public EnvApiValues? Api { get; init; }
}

/// <summary>
/// A container's environment as kubelet's makeEnvironmentVariables builds it: <c>envFrom</c> first (config maps and
/// secrets, with their prefix; keys that are not valid variable names skipped, see <see cref="InvalidEnvFromKeys"/>),
/// then <c>env</c> overriding them in order — literal values with <c>$(VAR)</c> expanded from what is defined so far
/// and the service variables, <c>valueFrom</c> through the downward API (<c>fieldRef</c>:
/// metadata.name/namespace/uid/labels['k']/annotations['k'], spec.nodeName, spec.serviceAccountName, status.hostIP(s),
/// status.podIP(s); <c>resourceFieldRef</c>: limits and requests of cpu, memory and ephemeral-storage with a
/// divisor), <c>configMapKeyRef</c> and <c>secretKeyRef</c> — then the service variables not defined otherwise.
/// Missing objects give kubelet's messages (<c>configmap "x" not found</c>, <c>couldn't find key k in ConfigMap
/// ns/x</c>) unless optional. Static pods have no API server: a required reference fails the container naming that.
/// </summary>
public static class EnvResolver
{
    public static List<KeyValuePair<string, string>> Resolve(V1Pod pod, V1Container container, PodEnvContext context)
    {
        var ns = pod.Metadata.NamespaceProperty ?? "default";
        var api = context.Api;
        var serviceEnv = api?.ServiceEnv ?? new Dictionary<string, string>();
        // kubelet's tmpEnv, in the order names were first defined.
        var env = new OrderedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var from in container.EnvFrom ?? [])
        {
            foreach (var (key, value) in EnvFromValues(from, ns, api, out _))
            {
                env[key] = value;
            }
        }

        foreach (var e in container.Env ?? [])
        {
            if (e.ValueFrom is null || !string.IsNullOrEmpty(e.Value))
            {
                env[e.Name] = EnvExpansion.Expand(e.Value ?? string.Empty,
                    n => env.TryGetValue(n, out var v) ? v : serviceEnv.TryGetValue(n, out var sv) ? sv : null);
                continue;
            }

            var from = e.ValueFrom;
            if (from.FieldRef is { } field)
            {
                env[e.Name] = Field(pod, field.FieldPath, context, e.Name);
            }
            else if (from.ResourceFieldRef is { } resource)
            {
                env[e.Name] = Resource(pod, container, resource, $"env {e.Name}");
            }
            else if (from.SecretKeyRef is { } secretRef)
            {
                var secret = api?.Secrets.GetValueOrDefault(secretRef.Name);
                byte[]? bytes = null;
                if (KeyRef(e.Name, "secret", "Secret", "secrets", ns, secretRef.Name, secretRef.Key, secretRef.Optional == true, api, secret,
                        secret?.Data?.TryGetValue(secretRef.Key, out bytes) == true && bytes is not null))
                {
                    env[e.Name] = Text(bytes!);
                }
            }
            else if (from.ConfigMapKeyRef is { } configMapRef)
            {
                var configMap = api?.ConfigMaps.GetValueOrDefault(configMapRef.Name);
                string? text = null;
                if (KeyRef(e.Name, "configmap", "ConfigMap", "config maps", ns, configMapRef.Name, configMapRef.Key, configMapRef.Optional == true, api, configMap,
                        configMap?.Data?.TryGetValue(configMapRef.Key, out text) == true && text is not null))
                {
                    env[e.Name] = text!;
                }
            }
            else
            {
                throw new ContainerConfigException($"env {e.Name}: valueFrom names no source");
            }
        }

        // Service variables after the container's own, never replacing one of them.
        foreach (var (key, value) in serviceEnv)
        {
            env.TryAdd(key, value);
        }

        return env.ToList();
    }

    /// <summary>
    /// kubelet's InvalidEnvironmentVariableNames warnings for <paramref name="container"/>'s envFrom: "Keys [a, b]
    /// from the EnvFrom configMap ns/x were skipped since they are considered invalid environment variable names."
    /// </summary>
    public static List<string> InvalidEnvFromKeys(V1Pod pod, V1Container container, PodEnvContext context)
    {
        var warnings = new List<string>();
        var ns = pod.Metadata.NamespaceProperty ?? "default";
        foreach (var from in container.EnvFrom ?? [])
        {
            try
            {
                EnvFromValues(from, ns, context.Api, out var invalid);
                if (invalid.Count > 0)
                {
                    invalid.Sort(StringComparer.Ordinal);
                    var (kind, name) = from.ConfigMapRef is { } c ? ("configMap", c.Name) : ("secret", from.SecretRef?.Name);
                    warnings.Add($"Keys [{string.Join(", ", invalid)}] from the EnvFrom {kind} {ns}/{name} were skipped since they are considered invalid environment variable names.");
                }
            }
            catch (ContainerConfigException)
            {
                // Reported by Resolve.
            }
        }

        return warnings;
    }

    private static List<KeyValuePair<string, string>> EnvFromValues(V1EnvFromSource from, string ns, EnvApiValues? api, out List<string> invalid)
    {
        invalid = [];
        var result = new List<KeyValuePair<string, string>>();
        var prefix = from.Prefix ?? string.Empty;
        if (from.ConfigMapRef is { } cmRef)
        {
            var optional = cmRef.Optional == true;
            if (api is null)
            {
                return optional ? result : throw new ContainerConfigException(
                    $"envFrom: configmap \"{cmRef.Name}\" cannot be read: static pods have no API server to read config maps from");
            }

            var configMap = api.ConfigMaps.GetValueOrDefault(cmRef.Name);
            if (configMap is null)
            {
                return optional ? result : throw new ContainerConfigException($"configmap \"{cmRef.Name}\" not found");
            }

            foreach (var (key, value) in (configMap.Data ?? new Dictionary<string, string>()).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                Add(prefix + key, value ?? string.Empty, result, invalid);
            }
        }
        else if (from.SecretRef is { } secretRef)
        {
            var optional = secretRef.Optional == true;
            if (api is null)
            {
                return optional ? result : throw new ContainerConfigException(
                    $"envFrom: secret \"{secretRef.Name}\" cannot be read: static pods have no API server to read secrets from");
            }

            var secret = api.Secrets.GetValueOrDefault(secretRef.Name);
            if (secret is null)
            {
                return optional ? result : throw new ContainerConfigException($"secret \"{secretRef.Name}\" not found");
            }

            foreach (var (key, value) in (secret.Data ?? new Dictionary<string, byte[]>()).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                Add(prefix + key, Text(value ?? []), result, invalid);
            }
        }

        return result;

        static void Add(string name, string value, List<KeyValuePair<string, string>> result, List<string> invalid)
        {
            // go's IsEnvVarName (relaxed): printable ASCII except '='. A NUL in a value would cut the variable short
            // in the process's environment block, so such a value is refused with its key as well.
            if (name.Length == 0 || name.Any(c => c is < ' ' or > '~' or '=') || value.Contains('\0'))
            {
                invalid.Add(name);
                return;
            }

            result.Add(new(name, value));
        }
    }

    /// <summary>Whether a configMapKeyRef/secretKeyRef yields a value; throws kubelet's error when a required one
    /// cannot (no API server, no object, no key).</summary>
    private static bool KeyRef(string env, string kind, string kindTitle, string plural, string ns, string name, string key, bool optional,
        EnvApiValues? api, object? obj, bool hasKey)
    {
        if (hasKey)
        {
            return true;
        }

        if (optional)
        {
            return false;
        }

        throw new ContainerConfigException(
            api is null ? $"env {env}: {kind} \"{name}\" key \"{key}\" cannot be read: static pods have no API server to read {plural} from"
            : obj is null ? $"{kind} \"{name}\" not found"
            : $"couldn't find key {key} in {kindTitle} {ns}/{name}");
    }

    private static string Text(byte[] bytes) => System.Text.Encoding.UTF8.GetString(bytes);

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

    /// <summary>A resourceFieldRef's value (env and downwardAPI volumes); <paramref name="where"/> starts error messages.</summary>
    internal static string Resource(V1Pod pod, V1Container target, V1ResourceFieldSelector selector, string where)
    {
        var container = selector.ContainerName is { Length: > 0 } c
            ? pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []).FirstOrDefault(x => x.Name == c)
                ?? throw new ContainerConfigException($"{where}: resourceFieldRef names unknown container \"{c}\"")
            : target;
        var parts = selector.Resource.Split('.', 2);
        if (parts.Length != 2 || parts[0] is not ("limits" or "requests") || parts[1] is not ("cpu" or "memory" or "ephemeral-storage"))
        {
            throw new ContainerConfigException($"{where}: unsupported resourceFieldRef \"{selector.Resource}\"");
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
