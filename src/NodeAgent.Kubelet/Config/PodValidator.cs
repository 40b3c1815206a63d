using System.Text.RegularExpressions;
using k8s.Models;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// The subset of the API server's <c>ValidatePodCreate</c> that kubelet's static pods need, with the API server's
/// messages: names, containers, images, enumerations, ports and volumes.
/// </summary>
public static partial class PodValidator
{
    private const string LabelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    private const string SubdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

    /// <summary>
    /// Validates a decoded, defaulted pod as written in the manifest (before the node suffix is added to its name).
    /// Returns (field path, reason) pairs; empty when valid.
    /// </summary>
    public static IReadOnlyList<(string Field, string Reason)> Validate(V1Pod pod, string nodeName)
    {
        var errors = new List<(string, string)>();
        var name = pod.Metadata?.Name;
        if (string.IsNullOrEmpty(name))
        {
            errors.Add(("metadata.name", "Required value: name or generateName is required"));
        }
        else
        {
            CheckSubdomain(errors, "metadata.name", name);
            var full = $"{name}-{nodeName.ToLowerInvariant()}";
            if (full.Length > 253)
            {
                errors.Add(("metadata.name", $"Invalid value: \"{full}\": must be no more than 253 characters (static pod name is <name>-<nodeName>)"));
            }
        }

        if (pod.Metadata?.NamespaceProperty is { Length: > 0 } ns)
        {
            CheckLabel(errors, "metadata.namespace", ns);
        }

        var spec = pod.Spec;
        if (spec is null)
        {
            errors.Add(("spec", "Required value"));
            return errors;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var c in spec.InitContainers ?? [])
        {
            CheckContainer(errors, $"spec.initContainers[{i++}]", c, names);
        }

        if (spec.Containers is not { Count: > 0 })
        {
            errors.Add(("spec.containers", "Required value"));
        }
        else
        {
            i = 0;
            foreach (var c in spec.Containers)
            {
                CheckContainer(errors, $"spec.containers[{i++}]", c, names);
            }
        }

        CheckEnum(errors, "spec.restartPolicy", spec.RestartPolicy, "Always", "OnFailure", "Never");
        CheckEnum(errors, "spec.dnsPolicy", spec.DnsPolicy, "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None");
        if (spec.TerminationGracePeriodSeconds < 0)
        {
            errors.Add(("spec.terminationGracePeriodSeconds", $"Invalid value: {spec.TerminationGracePeriodSeconds}: must be greater than or equal to 0"));
        }

        var volumes = new HashSet<string>(StringComparer.Ordinal);
        i = 0;
        foreach (var v in spec.Volumes ?? [])
        {
            var path = $"spec.volumes[{i++}].name";
            if (string.IsNullOrEmpty(v.Name))
            {
                errors.Add((path, "Required value"));
            }
            else if (CheckLabel(errors, path, v.Name) && !volumes.Add(v.Name))
            {
                errors.Add((path, $"Duplicate value: \"{v.Name}\""));
            }
        }

        return errors;
    }

    private static void CheckContainer(List<(string, string)> errors, string path, V1Container c, HashSet<string> names)
    {
        if (string.IsNullOrEmpty(c.Name))
        {
            errors.Add(($"{path}.name", "Required value"));
        }
        else if (CheckLabel(errors, $"{path}.name", c.Name) && !names.Add(c.Name))
        {
            errors.Add(($"{path}.name", $"Duplicate value: \"{c.Name}\""));
        }

        if (string.IsNullOrWhiteSpace(c.Image))
        {
            errors.Add(($"{path}.image", "Required value"));
        }

        CheckEnum(errors, $"{path}.imagePullPolicy", c.ImagePullPolicy, "Always", "IfNotPresent", "Never");
        CheckEnum(errors, $"{path}.terminationMessagePolicy", c.TerminationMessagePolicy, "File", "FallbackToLogsOnError");
        var i = 0;
        foreach (var p in c.Ports ?? [])
        {
            var portPath = $"{path}.ports[{i++}]";
            if (p.ContainerPort is < 1 or > 65535)
            {
                errors.Add(($"{portPath}.containerPort", $"Invalid value: {p.ContainerPort}: must be between 1 and 65535, inclusive"));
            }

            if (p.HostPort is < 0 or > 65535)
            {
                errors.Add(($"{portPath}.hostPort", $"Invalid value: {p.HostPort}: must be between 1 and 65535, inclusive"));
            }

            CheckEnum(errors, $"{portPath}.protocol", p.Protocol, "TCP", "UDP", "SCTP");
        }
    }

    private static void CheckEnum(List<(string, string)> errors, string path, string? value, params string[] allowed)
    {
        if (value is not null && Array.IndexOf(allowed, value) < 0)
        {
            errors.Add((path, $"Unsupported value: \"{value}\": supported values: {string.Join(", ", allowed.Select(a => $"\"{a}\""))}"));
        }
    }

    private static bool CheckLabel(List<(string, string)> errors, string path, string value)
    {
        var ok = true;
        if (value.Length > 63)
        {
            errors.Add((path, $"Invalid value: \"{value}\": must be no more than 63 characters"));
            ok = false;
        }

        if (!LabelRegex().IsMatch(value))
        {
            errors.Add((path, $"Invalid value: \"{value}\": {LabelMessage}"));
            ok = false;
        }

        return ok;
    }

    private static void CheckSubdomain(List<(string, string)> errors, string path, string value)
    {
        if (value.Length > 253)
        {
            errors.Add((path, $"Invalid value: \"{value}\": must be no more than 253 characters"));
        }

        if (!SubdomainRegex().IsMatch(value))
        {
            errors.Add((path, $"Invalid value: \"{value}\": {SubdomainMessage}"));
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex LabelRegex();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex SubdomainRegex();
}
