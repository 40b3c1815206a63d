using System.Text.RegularExpressions;
using k8s.Models;
using NodeAgent.Kubelet.Node;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// kubelet's registration and reservation values as flags write them: <c>--node-labels k=v,…</c>,
/// <c>--register-with-taints key=value:Effect,…</c>, <c>--kube-reserved cpu=100m,memory=100Mi</c>,
/// <c>--eviction-hard memory.available&lt;100Mi,…</c>. Every value is checked (label syntax, taint effects, resource
/// names and quantities) and an error names the value and why; nothing unchecked reaches the Node.
/// </summary>
public static partial class NodeFlagValues
{
    private static readonly string[] Effects = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
    private static readonly string[] ReservableResources = ["cpu", "memory", "ephemeral-storage", "pid"];

    [GeneratedRegex(@"\A([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?\z")]
    private static partial Regex QualifiedName();

    [GeneratedRegex(@"\A(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?\z")]
    private static partial Regex LabelValue();

    /// <summary>A label key (qualified name, prefix ≤ 253) or null when valid.</summary>
    public static string? KeyError(string key) =>
        key.Length > 0 && QualifiedName().IsMatch(key) && (key.IndexOf('/') is var slash && (slash < 0 || slash <= 253))
            ? null
            : $"{ValueText.Quote(key, 100)} is not a qualified name (an optional DNS subdomain prefix and '/', then 1 to 63 letters, digits, '-', '_' or '.')";

    public static string? ValueError(string value) =>
        value.Length <= 63 && LabelValue().IsMatch(value) ? null : $"{ValueText.Quote(value, 100)} is not a label value (at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric)";

    public static string? TaintError(V1Taint taint)
    {
        if (taint.Key is null || KeyError(taint.Key) is { } keyError)
        {
            return "taint key: " + (taint.Key is null ? "required" : KeyError(taint.Key));
        }

        if (taint.Value is { Length: > 0 } value && ValueError(value) is { } valueError)
        {
            return "taint value: " + valueError;
        }

        return Array.IndexOf(Effects, taint.Effect) < 0 ? $"taint effect {ValueText.Quote(taint.Effect ?? "", 100)}: must be NoSchedule, PreferNoSchedule or NoExecute" : null;
    }

    /// <summary><c>--node-labels</c>.</summary>
    public static Dictionary<string, string> ParseLabels(string text)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in Items(text))
        {
            var eq = item.IndexOf('=');
            if (eq <= 0)
            {
                throw new KubeletConfigurationException($"--node-labels {ValueText.Quote(item, 100)}: expected key=value");
            }

            var (key, value) = (item[..eq], item[(eq + 1)..]);
            if ((KeyError(key) ?? ValueError(value)) is { } error)
            {
                throw new KubeletConfigurationException($"--node-labels: {error}");
            }

            labels[key] = value;
        }

        return labels;
    }

    /// <summary><c>--register-with-taints</c>: <c>key=value:Effect</c> or <c>key:Effect</c>.</summary>
    public static List<V1Taint> ParseTaints(string text)
    {
        var taints = new List<V1Taint>();
        foreach (var item in Items(text))
        {
            var colon = item.LastIndexOf(':');
            if (colon <= 0)
            {
                throw new KubeletConfigurationException($"--register-with-taints {ValueText.Quote(item, 100)}: expected key=value:Effect");
            }

            var keyValue = item[..colon];
            var eq = keyValue.IndexOf('=');
            var taint = new V1Taint
            {
                Key = eq < 0 ? keyValue : keyValue[..eq],
                Value = eq < 0 ? null : keyValue[(eq + 1)..],
                Effect = item[(colon + 1)..],
            };
            if (TaintError(taint) is { } error)
            {
                throw new KubeletConfigurationException($"--register-with-taints {ValueText.Quote(item, 100)}: {error}");
            }

            taints.Add(taint);
        }

        return taints;
    }

    /// <summary><c>--kube-reserved</c>/<c>--system-reserved</c> as a map (checked by <see cref="ReservedAmounts"/>).</summary>
    public static Dictionary<string, string> ParseMap(string flag, string text, char separator = '=')
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in Items(text))
        {
            var at = item.IndexOf(separator);
            if (at <= 0)
            {
                throw new KubeletConfigurationException($"{flag} {ValueText.Quote(item, 100)}: expected name{separator}value");
            }

            map[item[..at]] = item[(at + 1)..];
        }

        return map;
    }

    /// <summary>Reservations summed by resource: cpu in millicores, the others in bytes or units.</summary>
    public static Dictionary<string, long> ReservedAmounts(string origin, params IReadOnlyDictionary<string, string>[] maps)
    {
        var total = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var map in maps)
        {
            foreach (var (name, text) in map)
            {
                if (Array.IndexOf(ReservableResources, name) < 0)
                {
                    throw new KubeletConfigurationException($"{origin}: {ValueText.Quote(name, 100)}: only cpu, memory, ephemeral-storage and pid can be reserved");
                }

                if (!ResourceQuantityRules.TryParse(text, out var value, out var error) || value < 0)
                {
                    throw new KubeletConfigurationException($"{origin}: {name} {ValueText.Quote(text, 100)}: {error ?? "must not be negative"}");
                }

                var amount = name == "cpu" ? value * 1000 : value;
                total[name] = (long)Math.Min(long.MaxValue / 4, Math.Ceiling(amount)) + total.GetValueOrDefault(name);
            }
        }

        return total;
    }

    /// <summary><c>evictionHard</c> (<c>--eviction-hard</c> gives the same map, split at '&lt;'); kubelet's defaults when empty.</summary>
    public static List<EvictionThreshold> Thresholds(string origin, IReadOnlyDictionary<string, string> map)
    {
        if (map.Count == 0)
        {
            return [.. EvictionThreshold.Defaults];
        }

        var list = new List<EvictionThreshold>();
        foreach (var (signal, value) in map)
        {
            list.Add(EvictionThreshold.Parse(signal, value, out var error) ?? throw new KubeletConfigurationException($"{origin}: {error}"));
        }

        return list;
    }

    private static IEnumerable<string> Items(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

}
