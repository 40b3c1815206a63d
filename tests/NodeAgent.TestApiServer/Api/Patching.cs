using System.Text.Json.Nodes;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// The server side of the three patch formats: RFC 7386 JSON merge patch, RFC 6902 JSON patch, and strategic merge
/// patch with the merge keys of the core types (lists of containers merge by name, conditions by type…), the
/// <c>$patch</c>, <c>$retainKeys</c>, <c>$deleteFromPrimitiveList</c> and <c>$setElementOrder</c> directives.
/// </summary>
public static class Patching
{
    /// <summary>Merge keys by field path (list indices left out); "" marks a primitive list merged as a set.</summary>
    private static readonly Dictionary<string, string> MergeKeys = BuildMergeKeys();

    private static Dictionary<string, string> BuildMergeKeys()
    {
        var keys = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["metadata.ownerReferences"] = "uid",
            ["metadata.finalizers"] = "",
            ["spec.volumes"] = "name",
            ["spec.imagePullSecrets"] = "name",
            ["spec.hostAliases"] = "ip",
            ["spec.topologySpreadConstraints"] = "topologyKey",
            ["spec.schedulingGates"] = "name",
            ["spec.resourceClaims"] = "name",
            ["spec.podCIDRs"] = "",
            ["spec.ports"] = "port",
            ["status.conditions"] = "type",
            ["status.addresses"] = "type",
            ["status.podIPs"] = "ip",
            ["status.hostIPs"] = "ip",
        };
        foreach (var c in new[] { "spec.containers", "spec.initContainers", "spec.ephemeralContainers" })
        {
            keys[c] = "name";
            keys[c + ".ports"] = "containerPort";
            keys[c + ".env"] = "name";
            keys[c + ".volumeMounts"] = "mountPath";
            keys[c + ".volumeDevices"] = "devicePath";
        }
        return keys;
    }

    public static JsonObject JsonMerge(JsonObject target, JsonNode patch)
    {
        if (patch is not JsonObject p)
        {
            throw ApiError.BadRequest("a JSON merge patch must be a JSON object");
        }
        MergeObject(target, p);
        return target;

        static void MergeObject(JsonObject t, JsonObject p)
        {
            foreach (var (key, value) in p.ToList())
            {
                if (value is null)
                {
                    t.Remove(key);
                }
                else if (value is JsonObject vo && t[key] is JsonObject to)
                {
                    MergeObject(to, vo);
                }
                else if (value is JsonObject vo2)
                {
                    var fresh = new JsonObject();
                    MergeObject(fresh, vo2);
                    t[key] = fresh;
                }
                else
                {
                    t[key] = value.DeepClone();
                }
            }
        }
    }

    public static JsonObject Strategic(JsonObject target, JsonNode patch)
    {
        if (patch is not JsonObject p)
        {
            throw ApiError.BadRequest("a strategic merge patch must be a JSON object");
        }
        return StrategicObject(target, p, "");
    }

    private static JsonObject StrategicObject(JsonObject target, JsonObject patch, string path)
    {
        if (patch["$patch"] is JsonValue directive)
        {
            var d = directive.ToString();
            if (d == "replace")
            {
                var replaced = (JsonObject)patch.DeepClone();
                replaced.Remove("$patch");
                return replaced;
            }
            throw ApiError.BadRequest($"unknown patch directive \"{d}\" at {path}");
        }
        if (patch["$retainKeys"] is JsonArray retain)
        {
            var keep = retain.Select(k => k?.ToString()).ToHashSet();
            foreach (var key in target.Select(kv => kv.Key).ToList().Where(k => !keep.Contains(k)))
            {
                target.Remove(key);
            }
        }
        foreach (var (key, value) in patch.ToList())
        {
            if (key is "$retainKeys" || key.StartsWith("$setElementOrder/", StringComparison.Ordinal))
            {
                continue;
            }
            if (key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                var field = key["$deleteFromPrimitiveList/".Length..];
                if (target[field] is JsonArray list && value is JsonArray remove)
                {
                    var gone = remove.Select(v => v?.ToJsonString()).ToHashSet();
                    foreach (var item in list.Where(i => gone.Contains(i?.ToJsonString())).ToList())
                    {
                        list.Remove(item);
                    }
                }
                continue;
            }
            var childPath = path.Length == 0 ? key : $"{path}.{key}";
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject vo && vo["$patch"]?.ToString() == "delete")
            {
                target.Remove(key);
            }
            else if (value is JsonObject vo2)
            {
                target[key] = StrategicObject(target[key] as JsonObject ?? new JsonObject(), vo2, childPath);
            }
            else if (value is JsonArray va && MergeKeys.TryGetValue(childPath, out var mergeKey))
            {
                var merged = mergeKey.Length == 0
                    ? MergePrimitiveList(target[key] as JsonArray, va)
                    : MergeList(target[key] as JsonArray, va, mergeKey, childPath);
                if (patch[$"$setElementOrder/{key}"] is JsonArray order)
                {
                    merged = Reorder(merged, order, mergeKey);
                }
                target[key] = merged;
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
        return target;
    }

    private static JsonArray MergePrimitiveList(JsonArray? original, JsonArray patch)
    {
        var result = original is null ? new JsonArray() : (JsonArray)original.DeepClone();
        var seen = result.Select(v => v?.ToJsonString()).ToHashSet();
        foreach (var item in patch)
        {
            if (seen.Add(item?.ToJsonString()))
            {
                result.Add(item?.DeepClone());
            }
        }
        return result;
    }

    private static JsonArray MergeList(JsonArray? original, JsonArray patch, string mergeKey, string path)
    {
        if (patch.Any(e => e is JsonObject o && o["$patch"]?.ToString() == "replace"))
        {
            var replaced = new JsonArray();
            foreach (var e in patch.Where(e => !(e is JsonObject o && o["$patch"]?.ToString() == "replace")))
            {
                replaced.Add(e?.DeepClone());
            }
            return replaced;
        }
        var result = original is null ? new JsonArray() : (JsonArray)original.DeepClone();
        foreach (var element in patch)
        {
            if (element is not JsonObject pe)
            {
                throw ApiError.BadRequest($"{path}: elements of a list merged by \"{mergeKey}\" must be objects");
            }
            var keyValue = pe[mergeKey]?.ToJsonString()
                ?? throw ApiError.BadRequest($"map: {pe.ToJsonString()} does not contain declared merge key: {mergeKey}");
            var existing = result.FirstOrDefault(e => e is JsonObject eo && eo[mergeKey]?.ToJsonString() == keyValue) as JsonObject;
            if (pe["$patch"]?.ToString() == "delete")
            {
                if (existing is not null)
                {
                    result.Remove(existing);
                }
                continue;
            }
            if (existing is null)
            {
                var fresh = StrategicObject(new JsonObject(), pe, path);
                result.Add(fresh);
            }
            else
            {
                var index = result.IndexOf(existing);
                result[index] = StrategicObject((JsonObject)existing.DeepClone(), pe, path);
            }
        }
        return result;
    }

    private static JsonArray Reorder(JsonArray merged, JsonArray order, string mergeKey)
    {
        string? KeyOf(JsonNode? n) => mergeKey.Length == 0 ? n?.ToJsonString() : (n as JsonObject)?[mergeKey]?.ToJsonString();
        var rank = order.Select((o, i) => (KeyOf(o), i)).Where(x => x.Item1 is not null).GroupBy(x => x.Item1!).ToDictionary(g => g.Key, g => g.First().i);
        var items = merged.Select((n, i) => (n, i)).ToList();
        var sorted = items.OrderBy(x => KeyOf(x.n) is { } k && rank.TryGetValue(k, out var r) ? r : int.MaxValue).ThenBy(x => x.i).Select(x => x.n?.DeepClone());
        return new JsonArray(sorted.ToArray());
    }

    /// <summary>RFC 6902: add, remove, replace, move, copy, test, applied in order; any failure fails the whole patch.</summary>
    public static JsonObject Json(JsonObject target, JsonNode patch)
    {
        if (patch is not JsonArray ops)
        {
            throw ApiError.BadRequest("a JSON patch must be a JSON array of operations");
        }
        JsonNode root = target;
        foreach (var opNode in ops)
        {
            if (opNode is not JsonObject op || op["op"]?.ToString() is not { } name || op["path"]?.ToString() is not { } path)
            {
                throw ApiError.BadRequest("a JSON patch operation needs \"op\" and \"path\"");
            }
            switch (name)
            {
                case "add":
                    Add(ref root, path, Required(op, "value").DeepClone());
                    break;
                case "remove":
                    Remove(root, path);
                    break;
                case "replace":
                    Remove(root, path);
                    Add(ref root, path, Required(op, "value").DeepClone());
                    break;
                case "move":
                {
                    var from = op["from"]?.ToString() ?? throw ApiError.BadRequest("move needs \"from\"");
                    var value = Resolve(root, from)?.DeepClone();
                    Remove(root, from);
                    Add(ref root, path, value);
                    break;
                }
                case "copy":
                {
                    var from = op["from"]?.ToString() ?? throw ApiError.BadRequest("copy needs \"from\"");
                    Add(ref root, path, Resolve(root, from)?.DeepClone());
                    break;
                }
                case "test":
                    if (!JsonNode.DeepEquals(Resolve(root, path), op["value"]))
                    {
                        throw new ApiError(422, "Invalid", $"the server rejected our request due to an error in our request: testing value {path} failed");
                    }
                    break;
                default:
                    throw ApiError.BadRequest($"Unexpected kind: {name}");
            }
        }
        return root as JsonObject ?? throw ApiError.BadRequest("the JSON patch replaced the object with a non-object");
    }

    private static JsonNode Required(JsonObject op, string key) =>
        op.TryGetPropertyValue(key, out var v) && v is not null ? v : throw ApiError.BadRequest($"{op["op"]} operation does not apply: missing {key}");

    private static string[] Pointer(string path)
    {
        if (path.Length == 0)
        {
            return [];
        }
        if (path[0] != '/')
        {
            throw ApiError.BadRequest($"JSON pointer \"{path}\" must start with '/'");
        }
        return path[1..].Split('/').Select(p => p.Replace("~1", "/").Replace("~0", "~")).ToArray();
    }

    private static JsonNode? Resolve(JsonNode root, string path)
    {
        JsonNode? node = root;
        foreach (var part in Pointer(path))
        {
            node = node switch
            {
                JsonObject o when o.ContainsKey(part) => o[part],
                JsonArray a when int.TryParse(part, out var i) && i >= 0 && i < a.Count => a[i],
                _ => throw new ApiError(422, "Invalid", $"the server rejected our request due to an error in our request: doc is missing path: \"{path}\""),
            };
        }
        return node;
    }

    private static void Add(ref JsonNode root, string path, JsonNode? value)
    {
        var parts = Pointer(path);
        if (parts.Length == 0)
        {
            root = value ?? throw ApiError.BadRequest("cannot replace the document with null");
            return;
        }
        var parent = Resolve(root, "/" + string.Join('/', parts[..^1].Select(Escape)));
        var last = parts[^1];
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a when last == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(last, out var i) && i >= 0 && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw new ApiError(422, "Invalid", $"the server rejected our request due to an error in our request: add operation does not apply: doc is missing path: \"{path}\"");
        }
    }

    private static void Remove(JsonNode root, string path)
    {
        var parts = Pointer(path);
        if (parts.Length == 0)
        {
            throw ApiError.BadRequest("cannot remove the whole document");
        }
        var parent = Resolve(root, parts.Length == 1 ? "" : "/" + string.Join('/', parts[..^1].Select(Escape)));
        var last = parts[^1];
        var ok = parent switch
        {
            JsonObject o => o.Remove(last),
            JsonArray a when int.TryParse(last, out var i) && i >= 0 && i < a.Count => RemoveAt(a, i),
            _ => false,
        };
        if (!ok)
        {
            throw new ApiError(422, "Invalid", $"the server rejected our request due to an error in our request: remove operation does not apply: doc is missing path: \"{path}\"");
        }

        static bool RemoveAt(JsonArray a, int i)
        {
            a.RemoveAt(i);
            return true;
        }
    }

    private static string Escape(string part) => part.Replace("~", "~0").Replace("/", "~1");
}
