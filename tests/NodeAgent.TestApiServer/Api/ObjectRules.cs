using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// What the real server's strategies do to an object on the way in: typed decoding (unknown fields dropped, or
/// refused under <c>fieldValidation=Strict</c>), name validation, system metadata (uid, creationTimestamp,
/// generation), the pod defaults kubectl shows, and status reset on create.
/// </summary>
public static partial class ObjectRules
{
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    /// <summary>Decodes through the typed model; returns the normalized object and the unknown fields found.</summary>
    public static JsonObject Decode(ResourceInfo r, JsonObject body, string? fieldValidation, List<string> warnings)
    {
        string tripped;
        try
        {
            tripped = r.RoundTrip(body.ToJsonString());
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw ApiError.BadRequest($"{r.Kind} in version \"{r.Version}\" cannot be handled as a {r.Kind}: {e.Message}");
        }
        var normalized = JsonNode.Parse(tripped)!.AsObject();
        var unknown = new List<string>();
        FindUnknown(body, normalized, "", unknown);
        if (r.Plural == "secrets")
        {
            MergeStringData(normalized);
        }
        if (unknown.Count > 0)
        {
            if (fieldValidation == "Strict")
            {
                var text = string.Join(", ", unknown.Select(u => $"unknown field \"{u}\""));
                throw ApiError.BadRequest($"{r.Kind} in version \"{r.Version}\" cannot be handled as a {r.Kind}: strict decoding error: {text}");
            }
            if (fieldValidation != "Ignore")
            {
                warnings.AddRange(unknown.Select(u => $"unknown field \"{u}\""));
            }
        }
        return normalized;
    }

    /// <summary>Secret <c>stringData</c> is write-only: merged into <c>data</c> (winning over the same key) and never stored.</summary>
    private static void MergeStringData(JsonObject secret)
    {
        if (secret["stringData"] is not JsonObject stringData)
        {
            secret.Remove("stringData");
            return;
        }
        var data = secret["data"] as JsonObject ?? new JsonObject();
        secret["data"] = data;
        foreach (var (key, value) in stringData)
        {
            data[key] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(value?.ToString() ?? ""));
        }
        secret.Remove("stringData");
    }

    private static void FindUnknown(JsonNode? original, JsonNode? known, string path, List<string> unknown)
    {
        switch (original)
        {
            case JsonObject o:
                var k = known as JsonObject;
                foreach (var (key, value) in o)
                {
                    var child = path.Length == 0 ? key : $"{path}.{key}";
                    if (k is null || !k.ContainsKey(key))
                    {
                        if (value is not null)
                        {
                            unknown.Add(child);
                        }
                        continue;
                    }
                    FindUnknown(value, k[key], child, unknown);
                }
                break;
            case JsonArray a when known is JsonArray ka:
                for (var i = 0; i < a.Count && i < ka.Count; i++)
                {
                    FindUnknown(a[i], ka[i], $"{path}[{i}]", unknown);
                }
                break;
        }
    }

    public static void ValidateName(ResourceInfo r, string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw ApiError.Invalid(r, "", ("metadata.name", "FieldValueRequired", "Required value: name or generateName is required"));
        }
        var label = r.Plural is "namespaces" or "services";
        var ok = label ? name.Length <= 63 && DnsLabel().IsMatch(name) : name.Length <= 253 && DnsSubdomain().IsMatch(name);
        if (!ok)
        {
            var rule = label
                ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
                : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
            throw ApiError.Invalid(r, name, ("metadata.name", "FieldValueInvalid", $"Invalid value: \"{name}\": {rule}"));
        }
    }

    /// <summary>Type-specific validation of a new or updated object.</summary>
    public static void Validate(ResourceInfo r, JsonObject obj)
    {
        var name = obj["metadata"]?["name"]?.ToString() ?? "";
        if (r.Plural == "pods")
        {
            var containers = obj["spec"]?["containers"] as JsonArray;
            if (containers is null || containers.Count == 0)
            {
                throw ApiError.Invalid(r, name, ("spec.containers", "FieldValueRequired", "Required value"));
            }
            var seen = new HashSet<string>();
            for (var i = 0; i < containers.Count; i++)
            {
                var c = containers[i] as JsonObject;
                var cname = c?["name"]?.ToString();
                if (string.IsNullOrEmpty(cname))
                {
                    throw ApiError.Invalid(r, name, ($"spec.containers[{i}].name", "FieldValueRequired", "Required value"));
                }
                if (!DnsLabel().IsMatch(cname) || cname.Length > 63)
                {
                    throw ApiError.Invalid(r, name, ($"spec.containers[{i}].name", "FieldValueInvalid", $"Invalid value: \"{cname}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'"));
                }
                if (!seen.Add(cname))
                {
                    throw ApiError.Invalid(r, name, ($"spec.containers[{i}].name", "FieldValueDuplicate", $"Duplicate value: \"{cname}\""));
                }
                if (string.IsNullOrEmpty(c?["image"]?.ToString()))
                {
                    throw ApiError.Invalid(r, name, ($"spec.containers[{i}].image", "FieldValueRequired", "Required value"));
                }
            }
        }
        if (r.Plural == "events" && obj["involvedObject"] is null)
        {
            throw ApiError.Invalid(r, name, ("involvedObject", "FieldValueRequired", "Required value"));
        }
        if (r.Plural == "events" && obj["series"] is JsonObject series)
        {
            if (series["count"].AsLong() is not >= 2)
            {
                throw ApiError.Invalid(r, name, ("series.count", "FieldValueInvalid", $"Invalid value: {series["count"]?.ToJsonString() ?? "0"}: should be at least 2"));
            }
            if (string.IsNullOrEmpty(series["lastObservedTime"]?.ToString()))
            {
                throw ApiError.Invalid(r, name, ("series.lastObservedTime", "FieldValueRequired", "Required value"));
            }
        }
    }

    /// <summary>Sets what the server owns on create: uid, creationTimestamp, generation; resets status where the strategy does; fills defaults.</summary>
    public static void PrepareForCreate(ResourceInfo r, JsonObject obj, TimeProvider time)
    {
        var meta = obj["metadata"]!.AsObject();
        meta["uid"] = Guid.NewGuid().ToString();
        meta["creationTimestamp"] = Timestamp(time.GetUtcNow());
        meta["generation"] = 1;
        meta.Remove("deletionTimestamp");
        meta.Remove("deletionGracePeriodSeconds");
        meta.Remove("resourceVersion");
        switch (r.Plural)
        {
            case "pods":
                obj["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = QosClass(obj) };
                DefaultPod(obj);
                break;
            case "services":
                obj["status"] = new JsonObject { ["loadBalancer"] = new JsonObject() };
                break;
            case "secrets":
                obj["type"] ??= "Opaque";
                break;
            case "namespaces":
                obj["status"] = new JsonObject { ["phase"] = "Active" };
                // The namespace strategy always adds the "kubernetes" finalizer the namespace controller removes.
                var nsSpec = obj["spec"] as JsonObject ?? new JsonObject();
                obj["spec"] = nsSpec;
                var nsFinalizers = nsSpec["finalizers"] as JsonArray ?? new JsonArray();
                nsSpec["finalizers"] = nsFinalizers;
                if (!nsFinalizers.Any(f => f?.ToString() == "kubernetes"))
                {
                    nsFinalizers.Add("kubernetes");
                }
                var labels = meta["labels"] as JsonObject ?? new JsonObject();
                labels["kubernetes.io/metadata.name"] = meta["name"]!.ToString();
                meta["labels"] = labels;
                break;
        }
        if (r.Plural != "events" && r.Plural != "nodes" && r.Plural != "pods" && obj["status"] is null && r.HasStatus)
        {
            obj["status"] = new JsonObject();
        }
    }

    /// <summary>Defaults applied to every write of the main resource, as decoding applies them on update too.</summary>
    public static void DefaultOnUpdate(ResourceInfo r, JsonObject obj)
    {
        if (r.Plural == "pods")
        {
            DefaultPod(obj);
        }
    }

    public static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void DefaultPod(JsonObject pod)
    {
        var spec = pod["spec"] as JsonObject ?? new JsonObject();
        pod["spec"] = spec;
        spec["restartPolicy"] ??= "Always";
        spec["dnsPolicy"] ??= "ClusterFirst";
        spec["terminationGracePeriodSeconds"] ??= 30;
        spec["schedulerName"] ??= "default-scheduler";
        spec["securityContext"] ??= new JsonObject();
        spec["enableServiceLinks"] ??= true;
        spec["preemptionPolicy"] ??= "PreemptLowerPriority";
        spec["priority"] ??= 0;
        foreach (var key in new[] { "containers", "initContainers" })
        {
            foreach (var c in (spec[key] as JsonArray ?? []).OfType<JsonObject>())
            {
                var image = c["image"]?.ToString() ?? "";
                var tagged = image.LastIndexOf(':') > image.LastIndexOf('/') && !image.EndsWith(":latest", StringComparison.Ordinal);
                c["imagePullPolicy"] ??= tagged || image.Contains('@') ? "IfNotPresent" : "Always";
                c["terminationMessagePath"] ??= "/dev/termination-log";
                c["terminationMessagePolicy"] ??= "File";
                c["resources"] ??= new JsonObject();
                foreach (var port in (c["ports"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    port["protocol"] ??= "TCP";
                }
            }
        }
        spec["tolerations"] ??= new JsonArray(
            new JsonObject { ["key"] = "node.kubernetes.io/not-ready", ["operator"] = "Exists", ["effect"] = "NoExecute", ["tolerationSeconds"] = 300 },
            new JsonObject { ["key"] = "node.kubernetes.io/unreachable", ["operator"] = "Exists", ["effect"] = "NoExecute", ["tolerationSeconds"] = 300 });
    }

    private static string QosClass(JsonObject pod)
    {
        var containers = (pod["spec"]?["containers"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var any = containers.Any(c => c["resources"]?["requests"] is JsonObject { Count: > 0 } || c["resources"]?["limits"] is JsonObject { Count: > 0 });
        if (!any)
        {
            return "BestEffort";
        }
        var guaranteed = containers.All(c =>
        {
            var limits = c["resources"]?["limits"] as JsonObject;
            var requests = c["resources"]?["requests"] as JsonObject;
            return limits?["cpu"] is not null && limits["memory"] is not null
                && (requests is null || ((requests["cpu"] is null || requests["cpu"]!.ToString() == limits["cpu"]!.ToString())
                    && (requests["memory"] is null || requests["memory"]!.ToString() == limits["memory"]!.ToString())));
        });
        return guaranteed ? "Guaranteed" : "Burstable";
    }
}
