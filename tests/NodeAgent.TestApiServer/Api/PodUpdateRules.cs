using System.Text.Json.Nodes;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// What an update may change in a pod's spec (the real server's ValidatePodUpdate): container and init container
/// images, <c>activeDeadlineSeconds</c> (set, or lowered), additions to <c>tolerations</c>, removal of
/// <c>schedulingGates</c>, and <c>terminationGracePeriodSeconds</c> from a negative value to 1. Anything else is 422
/// with the real message.
/// </summary>
public static class PodUpdateRules
{
    public const string Message = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

    public static void Validate(ResourceInfo r, string name, JsonObject? oldSpec, JsonObject? newSpec)
    {
        oldSpec ??= new JsonObject();
        var munged = (JsonObject?)newSpec?.DeepClone() ?? new JsonObject();
        foreach (var key in new[] { "containers", "initContainers" })
        {
            if (oldSpec[key] is JsonArray olds && munged[key] is JsonArray news && olds.Count == news.Count)
            {
                for (var i = 0; i < news.Count; i++)
                {
                    if (news[i] is JsonObject c && olds[i] is JsonObject o)
                    {
                        c["image"] = o["image"]?.DeepClone();
                    }
                }
            }
        }
        var oldDeadline = oldSpec["activeDeadlineSeconds"].AsLong();
        var newDeadline = munged["activeDeadlineSeconds"].AsLong();
        if (oldDeadline is not null && newDeadline is null)
        {
            throw ApiError.Invalid(r, name, ("spec.activeDeadlineSeconds", "FieldValueInvalid", "Invalid value: \"null\": must not update from a positive integer to nil value"));
        }
        if (oldDeadline is not null && newDeadline > oldDeadline)
        {
            throw ApiError.Invalid(r, name, ("spec.activeDeadlineSeconds", "FieldValueInvalid", $"Invalid value: {newDeadline}: must be less than or equal to previous value"));
        }
        Keep(munged, oldSpec, "activeDeadlineSeconds");
        var oldTolerations = oldSpec["tolerations"] as JsonArray ?? [];
        var newTolerations = munged["tolerations"] as JsonArray ?? [];
        if (oldTolerations.All(o => newTolerations.Any(n => JsonNode.DeepEquals(o, n))))
        {
            Keep(munged, oldSpec, "tolerations");
        }
        var oldGates = oldSpec["schedulingGates"] as JsonArray ?? [];
        foreach (var gate in munged["schedulingGates"] as JsonArray ?? [])
        {
            if (!oldGates.Any(o => JsonNode.DeepEquals(o, gate)))
            {
                throw ApiError.Invalid(r, name, ("spec.schedulingGates", "FieldValueForbidden", $"Forbidden: only deletion is allowed, but found new scheduling gate '{gate?["name"]}'"));
            }
        }
        Keep(munged, oldSpec, "schedulingGates");
        if (oldSpec["terminationGracePeriodSeconds"].AsLong() < 0 && munged["terminationGracePeriodSeconds"].AsLong() == 1)
        {
            Keep(munged, oldSpec, "terminationGracePeriodSeconds");
        }
        if (!JsonNode.DeepEquals(oldSpec, munged))
        {
            var changed = string.Join(", ", Differences(oldSpec, munged, "spec").Take(5));
            throw ApiError.Invalid(r, name, ("spec", "FieldValueForbidden", $"Forbidden: {Message}\n  changed: {changed}"));
        }
    }

    private static void Keep(JsonObject munged, JsonObject oldSpec, string key)
    {
        if (oldSpec[key] is { } value)
        {
            munged[key] = value.DeepClone();
        }
        else
        {
            munged.Remove(key);
        }
    }

    /// <summary>The paths where two specs differ, for the error's second line.</summary>
    private static IEnumerable<string> Differences(JsonNode? a, JsonNode? b, string path)
    {
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var key in oa.Select(kv => kv.Key).Union(ob.Select(kv => kv.Key)))
            {
                foreach (var d in Differences(oa[key], ob[key], $"{path}.{key}"))
                {
                    yield return d;
                }
            }
        }
        else if (a is JsonArray aa && b is JsonArray ab && aa.Count == ab.Count)
        {
            for (var i = 0; i < aa.Count; i++)
            {
                foreach (var d in Differences(aa[i], ab[i], $"{path}[{i}]"))
                {
                    yield return d;
                }
            }
        }
        else if (!JsonNode.DeepEquals(a, b))
        {
            yield return path;
        }
    }
}
