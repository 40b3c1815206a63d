using System.Text.Json.Nodes;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// A parsed field selector (<c>a=b,c!=d</c>) over the fields the real server indexes for each type; any other field is
/// refused with the real message ("field label not supported: …").
/// </summary>
public sealed class FieldSelector
{
    private static readonly Dictionary<string, string[]> Supported = new(StringComparer.Ordinal)
    {
        ["pods"] = ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"],
        ["nodes"] = ["spec.unschedulable"],
        ["events"] = ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion",
            "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"],
        ["secrets"] = ["type"],
        ["namespaces"] = ["status.phase"],
    };

    private readonly List<(string Field, string Value, bool Equal)> _terms = [];

    public static FieldSelector Parse(string? text, ResourceInfo resource)
    {
        var selector = new FieldSelector();
        if (string.IsNullOrWhiteSpace(text))
        {
            return selector;
        }
        foreach (var raw in text.Split(','))
        {
            var term = raw.Trim();
            bool equal;
            int idx, len;
            if ((idx = term.IndexOf("!=", StringComparison.Ordinal)) > 0) { equal = false; len = 2; }
            else if ((idx = term.IndexOf("==", StringComparison.Ordinal)) > 0) { equal = true; len = 2; }
            else if ((idx = term.IndexOf('=')) > 0) { equal = true; len = 1; }
            else
            {
                throw ApiError.BadRequest($"invalid selector: '{text}'; can't understand '{term}'");
            }
            var field = term[..idx].Trim();
            var value = term[(idx + len)..].Trim();
            var allowed = field == "metadata.name" || (field == "metadata.namespace" && resource.Namespaced)
                || (Supported.TryGetValue(resource.Plural, out var extra) && extra.Contains(field));
            if (!allowed)
            {
                throw ApiError.BadRequest($"field label not supported: {field}");
            }
            selector._terms.Add((field, value, equal));
        }
        return selector;
    }

    /// <summary>The value a term requires of <paramref name="field"/> with '=', if any (used by authorization).</summary>
    public string? RequiredValue(string field) => _terms.FirstOrDefault(t => t.Field == field && t.Equal).Value;

    public bool Matches(JsonObject obj)
    {
        foreach (var (field, value, equal) in _terms)
        {
            if ((FieldValue(obj, field) == value) != equal)
            {
                return false;
            }
        }
        return true;
    }

    private static string FieldValue(JsonObject obj, string field)
    {
        var path = field switch
        {
            "source" => "source.component",
            _ => field,
        };
        JsonNode? node = obj;
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject o ? o[part] : null;
        }
        return node switch
        {
            null => field is "spec.hostNetwork" or "spec.unschedulable" ? "false" : "",
            JsonValue v when v.AsBool() is bool b => b ? "true" : "false",
            JsonValue v => v.ToString(),
            _ => node.ToJsonString(),
        };
    }
}
