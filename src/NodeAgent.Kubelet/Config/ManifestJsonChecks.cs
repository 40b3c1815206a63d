using System.Globalization;
using System.Text.Json;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// Checks on a pod's JSON made before it is decoded into the API types, for what the typed decoder would throw on or
/// let through into later arithmetic: NUL bytes in any string (they cannot reach a path, an argv or an environment),
/// null list items and null map values, every resource quantity (<see cref="ResourceQuantityRules"/>: the grammar,
/// the range, non-negative requests and limits, requests not above limits) and timestamps. Each problem has the API
/// server's field path and the JSON path of the value, so the decoder can give its YAML line.
/// </summary>
public static class ManifestJsonChecks
{
    private static readonly string[] ContainerLists = ["containers", "initContainers", "ephemeralContainers"];
    private static readonly string[] StringMaps = ["labels", "annotations"];

    /// <summary>Checks one pod object; <paramref name="jsonPath"/> is its path in the document (<c>$</c> or <c>$.items[2]</c>).</summary>
    public static IReadOnlyList<ManifestJsonProblem> Check(JsonElement pod, string jsonPath)
    {
        var problems = new List<ManifestJsonProblem>();
        Walk(problems, pod, string.Empty, jsonPath);
        if (pod.ValueKind != JsonValueKind.Object)
        {
            return problems;
        }

        if (Child(pod, "metadata", out var meta))
        {
            foreach (var map in StringMaps)
            {
                NoNullValues(problems, meta, map, $"metadata.{map}", $"{jsonPath}.metadata");
            }

            Timestamp(problems, meta, "creationTimestamp", "metadata", $"{jsonPath}.metadata");
            Timestamp(problems, meta, "deletionTimestamp", "metadata", $"{jsonPath}.metadata");
        }

        if (!Child(pod, "spec", out var spec))
        {
            return problems;
        }

        var specPath = $"{jsonPath}.spec";
        NoNullValues(problems, spec, "nodeSelector", "spec.nodeSelector", specPath);
        foreach (var list in ContainerLists)
        {
            if (!spec.TryGetProperty(list, out var containers) || containers.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            var i = 0;
            foreach (var c in containers.EnumerateArray())
            {
                var field = $"spec.{list}[{i}]";
                var path = $"{specPath}.{list}[{i++}]";
                if (Child(c, "resources", out var resources))
                {
                    Requirements(problems, resources, $"{field}.resources", $"{path}.resources");
                }

                if (c.ValueKind == JsonValueKind.Object && c.TryGetProperty("env", out var env) && env.ValueKind == JsonValueKind.Array)
                {
                    var j = 0;
                    foreach (var e in env.EnumerateArray())
                    {
                        Divisor(problems, e, $"{field}.env[{j}]", $"{path}.env[{j}]");
                        j++;
                    }
                }
            }
        }

        if (Child(spec, "resources", out var podResources))
        {
            Requirements(problems, podResources, "spec.resources", $"{specPath}.resources");
        }

        if (Child(spec, "overhead", out var overhead))
        {
            QuantityMap(problems, overhead, "spec.overhead", $"{specPath}.overhead", null);
        }

        if (spec.TryGetProperty("volumes", out var volumes) && volumes.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var v in volumes.EnumerateArray())
            {
                Volume(problems, v, $"spec.volumes[{i}]", $"{specPath}.volumes[{i}]");
                i++;
            }
        }

        return problems;
    }

    private static void Volume(List<ManifestJsonProblem> problems, JsonElement v, string field, string path)
    {
        if (Child(v, "emptyDir", out var emptyDir) && emptyDir.TryGetProperty("sizeLimit", out var sizeLimit))
        {
            Quantity(problems, sizeLimit, $"{field}.emptyDir.sizeLimit", $"{path}.emptyDir.sizeLimit", allowNull: true);
        }

        if (Child(v, "downwardAPI", out var downward))
        {
            DownwardItems(problems, downward, $"{field}.downwardAPI", $"{path}.downwardAPI");
        }

        if (Child(v, "projected", out var projected) && projected.TryGetProperty("sources", out var sources) && sources.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var s in sources.EnumerateArray())
            {
                if (Child(s, "downwardAPI", out var d))
                {
                    DownwardItems(problems, d, $"{field}.projected.sources[{i}].downwardAPI", $"{path}.projected.sources[{i}].downwardAPI");
                }

                i++;
            }
        }

        if (Child(v, "ephemeral", out var ephemeral) && Child(ephemeral, "volumeClaimTemplate", out var template)
            && Child(template, "spec", out var claim) && Child(claim, "resources", out var resources))
        {
            Requirements(problems, resources, $"{field}.ephemeral.volumeClaimTemplate.spec.resources", $"{path}.ephemeral.volumeClaimTemplate.spec.resources");
        }
    }

    private static void DownwardItems(List<ManifestJsonProblem> problems, JsonElement downward, string field, string path)
    {
        if (downward.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in items.EnumerateArray())
            {
                if (Child(item, "resourceFieldRef", out var rf) && rf.TryGetProperty("divisor", out var divisor))
                {
                    Quantity(problems, divisor, $"{field}.items[{i}].resourceFieldRef.divisor", $"{path}.items[{i}].resourceFieldRef.divisor", allowNull: true);
                }

                i++;
            }
        }
    }

    private static void Divisor(List<ManifestJsonProblem> problems, JsonElement env, string field, string path)
    {
        if (Child(env, "valueFrom", out var from) && Child(from, "resourceFieldRef", out var rf) && rf.TryGetProperty("divisor", out var divisor))
        {
            Quantity(problems, divisor, $"{field}.valueFrom.resourceFieldRef.divisor", $"{path}.valueFrom.resourceFieldRef.divisor", allowNull: true);
        }
    }

    private static void Requirements(List<ManifestJsonProblem> problems, JsonElement resources, string field, string path)
    {
        Dictionary<string, (double Value, string Text)>? limits = null;
        if (Child(resources, "limits", out var l))
        {
            limits = QuantityMap(problems, l, $"{field}.limits", $"{path}.limits", null);
        }

        if (Child(resources, "requests", out var r))
        {
            QuantityMap(problems, r, $"{field}.requests", $"{path}.requests", limits);
        }
    }

    private static Dictionary<string, (double Value, string Text)> QuantityMap(
        List<ManifestJsonProblem> problems, JsonElement map, string field, string path, Dictionary<string, (double Value, string Text)>? limits)
    {
        var values = new Dictionary<string, (double Value, string Text)>(StringComparer.Ordinal);
        foreach (var p in map.EnumerateObject())
        {
            var f = $"{field}[{p.Name}]";
            var jp = YamlJson.ChildPath(path, p.Name);
            if (!p.Name.Contains('/', StringComparison.Ordinal) && p.Name is not ("cpu" or "memory" or "ephemeral-storage" or "storage" or "pods")
                && !p.Name.StartsWith("hugepages-", StringComparison.Ordinal))
            {
                problems.Add(new(f, jp, $"Invalid value: {ValueText.Quote(p.Name)}: must be a standard resource type or fully qualified"));
                continue;
            }

            if (Quantity(problems, p.Value, f, jp, allowNull: false) is not { } value)
            {
                continue;
            }

            values[p.Name] = (value, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText());
            if (value < 0)
            {
                problems.Add(new(f, jp, $"Invalid value: {Show(p.Value)}: must be greater than or equal to 0"));
            }
            else if (limits is not null && limits.TryGetValue(p.Name, out var limit) && value > limit.Value)
            {
                problems.Add(new(f, jp, $"Invalid value: {Show(p.Value)}: must be less than or equal to {p.Name} limit of {limit.Text}"));
            }
        }

        return values;
    }

    private static double? Quantity(List<ManifestJsonProblem> problems, JsonElement value, string field, string path, bool allowNull)
    {
        string text;
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                text = value.GetString()!;
                break;
            case JsonValueKind.Number:
                text = value.GetRawText();
                break;
            case JsonValueKind.Null when allowNull:
                return null;
            case JsonValueKind.Null:
                problems.Add(new(field, path, "Invalid value: null: must be a quantity such as \"500m\" or \"1Gi\""));
                return null;
            default:
                problems.Add(new(field, path, $"Invalid value: {value.GetRawText()}: must be a quantity such as \"500m\" or \"1Gi\""));
                return null;
        }

        if (!ResourceQuantityRules.TryParse(text, out var parsed, out var error))
        {
            problems.Add(new(field, path, $"Invalid value: {ValueText.Quote(text)}: {error}"));
            return null;
        }

        return parsed;
    }

    private static void Timestamp(List<ManifestJsonProblem> problems, JsonElement parent, string name, string field, string path)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (value.ValueKind != JsonValueKind.String
            || !DateTimeOffset.TryParseExact(value.GetString(), ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"], CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            problems.Add(new($"{field}.{name}", $"{path}.{name}",
                $"Invalid value: {(value.ValueKind == JsonValueKind.String ? ValueText.Quote(value.GetString()!) : value.GetRawText())}: must be an RFC 3339 date-time such as \"2006-01-02T15:04:05Z\""));
        }
    }

    private static void NoNullValues(List<ManifestJsonProblem> problems, JsonElement parent, string name, string field, string path)
    {
        if (!Child(parent, name, out var map))
        {
            return;
        }

        foreach (var p in map.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
            {
                problems.Add(new($"{field}[{p.Name}]", YamlJson.ChildPath($"{path}.{name}", p.Name), $"Invalid value: {p.Value.GetRawText()}: must be a string"));
            }
        }
    }

    /// <summary>Every string and key: no NUL; every array item: not null.</summary>
    private static void Walk(List<ManifestJsonProblem> problems, JsonElement e, string field, string path)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String when e.GetString()!.Contains('\0', StringComparison.Ordinal):
                problems.Add(new(field.Length == 0 ? "(root)" : field, path, $"Invalid value: {ValueText.Quote(e.GetString()!)}: must not contain a NUL byte"));
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in e.EnumerateArray())
                {
                    var itemField = $"{field}[{i}]";
                    var itemPath = $"{path}[{i++}]";
                    if (item.ValueKind == JsonValueKind.Null)
                    {
                        problems.Add(new(itemField, itemPath, "Required value: list items must not be null"));
                    }
                    else
                    {
                        Walk(problems, item, itemField, itemPath);
                    }
                }

                break;
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    var childField = field.Length == 0 ? p.Name : $"{field}.{p.Name}";
                    var childPath = YamlJson.ChildPath(path, p.Name);
                    if (p.Name.Contains('\0', StringComparison.Ordinal))
                    {
                        problems.Add(new(field.Length == 0 ? "(root)" : field, path, $"Invalid value: {ValueText.Quote(p.Name)}: keys must not contain a NUL byte"));
                        continue;
                    }

                    Walk(problems, p.Value, childField, childPath);
                }

                break;
        }
    }

    private static bool Child(JsonElement parent, string name, out JsonElement child)
    {
        child = default;
        return parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out child) && child.ValueKind == JsonValueKind.Object;
    }

    private static string Show(JsonElement value) => value.ValueKind == JsonValueKind.String ? ValueText.Quote(value.GetString()!) : value.GetRawText();
}
