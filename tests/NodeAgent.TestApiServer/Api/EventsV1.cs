using System.Text.Json.Nodes;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// events.k8s.io/v1 Event over the core/v1 event storage, converted as pkg/apis/events/v1 does: note = message,
/// regarding = involvedObject, reportingController = reportingComponent, deprecatedSource/FirstTimestamp/
/// LastTimestamp/Count = source/firstTimestamp/lastTimestamp/count; eventTime, series, action, related, type, reason
/// carried across.
/// </summary>
public static class EventsV1
{
    private static readonly (string V1, string Core)[] Renames =
    [
        ("note", "message"), ("regarding", "involvedObject"), ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"), ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"),
    ];

    private static readonly string[] Same = ["metadata", "eventTime", "series", "action", "related", "reportingInstance", "type", "reason"];

    public static readonly ResourceView View = new("events", FromCore, ToCore, ValidateCreate);

    public static JsonObject FromCore(JsonObject core) => Map(core, "events.k8s.io/v1", Renames.Select(r => (r.Core, r.V1)));

    public static JsonObject ToCore(JsonObject v1) => Map(v1, "v1", Renames.Select(r => (r.V1, r.Core)));

    private static JsonObject Map(JsonObject from, string apiVersion, IEnumerable<(string From, string To)> renames)
    {
        var to = new JsonObject { ["kind"] = "Event", ["apiVersion"] = apiVersion };
        foreach (var key in Same)
        {
            if (from[key] is { } v)
            {
                to[key] = v.DeepClone();
            }
        }
        foreach (var (f, t) in renames)
        {
            if (from[f] is { } v)
            {
                to[t] = v.DeepClone();
            }
        }
        return to;
    }

    /// <summary>The events.k8s.io/v1 create validation: eventTime, reportingController, reportingInstance, action, reason and regarding are required.</summary>
    private static void ValidateCreate(ResourceInfo r, JsonObject v1)
    {
        var name = v1["metadata"]?["name"]?.ToString() ?? "";
        var missing = new[] { "eventTime", "reportingController", "reportingInstance", "action", "reason" }
            .Where(k => string.IsNullOrEmpty(v1[k]?.ToString()))
            .Select(k => (k, "FieldValueRequired", "Required value"))
            .ToArray();
        if (missing.Length > 0)
        {
            throw ApiError.Invalid(r, name, missing);
        }
        if (v1["type"]?.ToString() is not ("Normal" or "Warning"))
        {
            throw ApiError.Invalid(r, name, ("type", "FieldValueInvalid", $"Invalid value: \"{v1["type"]}\": has invalid value: {v1["type"]}"));
        }
    }
}
