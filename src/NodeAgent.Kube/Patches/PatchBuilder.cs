using System.Text.Json.Nodes;
using k8s;

namespace NodeAgent.Kube.Patches;

/// <summary>
/// Patches computed from two typed objects, as client-go's helpers compute them: a JSON merge patch (RFC 7386), a
/// JSON patch (RFC 6902) and a two-way strategic merge patch (<c>CreateTwoWayMergePatch</c>: lists with merge keys
/// patched element-wise, deletions as <c>$patch: delete</c>, order as <c>$setElementOrder</c>, scalar set lists with
/// <c>$deleteFromPrimitiveList</c>) — the way kubelet patches pod and node status.
/// </summary>
public static class PatchBuilder
{
    public static string JsonMerge<T>(T original, T modified) => (MergeDiff(ToNode(original), ToNode(modified), null) ?? new JsonObject()).ToJsonString();

    public static string StrategicMerge<T>(T original, T modified) => (MergeDiff(ToNode(original), ToNode(modified), "") ?? new JsonObject()).ToJsonString();

    public static string Json<T>(T original, T modified)
    {
        var ops = new JsonArray();
        JsonDiff(ToNode(original), ToNode(modified), "", ops);
        return ops.ToJsonString();
    }

    private static JsonObject ToNode<T>(T obj) => JsonNode.Parse(KubernetesJson.Serialize(obj!))?.AsObject() ?? new JsonObject();

    /// <summary>The merge patch turning <paramref name="a"/> into <paramref name="b"/>; null when equal. <paramref name="path"/> null means plain JSON merge (no list strategies).</summary>
    private static JsonObject? MergeDiff(JsonObject a, JsonObject b, string? path)
    {
        var patch = new JsonObject();
        foreach (var (key, bv) in b)
        {
            var childPath = path is null ? null : path.Length == 0 ? key : $"{path}.{key}";
            a.TryGetPropertyValue(key, out var av);
            if (av is null && bv is null)
            {
                continue;
            }
            if (av is JsonObject ao && bv is JsonObject bo)
            {
                if (MergeDiff(ao, bo, childPath) is { } sub)
                {
                    patch[key] = sub;
                }
            }
            else if (childPath is not null && bv is JsonArray bl && MergeKeys.TryGet(childPath, out var mergeKey))
            {
                ListDiff(av as JsonArray ?? [], bl, mergeKey, key, childPath, patch);
            }
            else if (!JsonNode.DeepEquals(av, bv))
            {
                patch[key] = bv?.DeepClone();
            }
        }
        foreach (var (key, av) in a)
        {
            if (!b.ContainsKey(key) && av is not null)
            {
                patch[key] = null;
            }
        }
        return patch.Count == 0 ? null : patch;
    }

    private static void ListDiff(JsonArray a, JsonArray b, string mergeKey, string field, string path, JsonObject patch)
    {
        if (JsonNode.DeepEquals(a, b))
        {
            return;
        }
        if (mergeKey.Length == 0)
        {
            var before = a.Select(x => x?.ToJsonString()).ToHashSet();
            var after = b.Select(x => x?.ToJsonString()).ToHashSet();
            var added = b.Where(x => !before.Contains(x?.ToJsonString())).Select(x => x?.DeepClone()).ToArray();
            var removed = a.Where(x => !after.Contains(x?.ToJsonString())).Select(x => x?.DeepClone()).ToArray();
            patch[$"$setElementOrder/{field}"] = new JsonArray(b.Select(x => x?.DeepClone()).ToArray());
            if (added.Length > 0)
            {
                patch[field] = new JsonArray(added);
            }
            if (removed.Length > 0)
            {
                patch[$"$deleteFromPrimitiveList/{field}"] = new JsonArray(removed);
            }
            return;
        }
        string? KeyOf(JsonNode? n) => (n as JsonObject)?[mergeKey]?.ToJsonString();
        var old = a.OfType<JsonObject>().Where(o => KeyOf(o) is not null).GroupBy(o => KeyOf(o)!).ToDictionary(g => g.Key, g => g.First());
        var items = new JsonArray();
        var order = new JsonArray();
        var seen = new HashSet<string>();
        foreach (var element in b.OfType<JsonObject>())
        {
            var k = KeyOf(element);
            if (k is null)
            {
                // An element without its merge key cannot be merged: replace the whole list, as client-go falls back to.
                patch[field] = b.DeepClone();
                return;
            }
            seen.Add(k);
            order.Add((JsonNode)new JsonObject { [mergeKey] = element[mergeKey]!.DeepClone() });
            if (!old.TryGetValue(k, out var before))
            {
                items.Add(element.DeepClone());
            }
            else if (MergeDiff(before, element, path) is { } sub)
            {
                sub[mergeKey] = element[mergeKey]!.DeepClone();
                items.Add((JsonNode)sub);
            }
        }
        foreach (var (k, gone) in old)
        {
            if (!seen.Contains(k))
            {
                items.Add((JsonNode)new JsonObject { ["$patch"] = "delete", [mergeKey] = gone[mergeKey]!.DeepClone() });
            }
        }
        patch[$"$setElementOrder/{field}"] = order;
        if (items.Count > 0)
        {
            patch[field] = items;
        }
    }

    private static void JsonDiff(JsonNode? a, JsonNode? b, string pointer, JsonArray ops)
    {
        if (a is JsonObject ao && b is JsonObject bo)
        {
            foreach (var (key, av) in ao)
            {
                if (!bo.ContainsKey(key))
                {
                    ops.Add((JsonNode)new JsonObject { ["op"] = "remove", ["path"] = $"{pointer}/{Escape(key)}" });
                }
            }
            foreach (var (key, bv) in bo)
            {
                var child = $"{pointer}/{Escape(key)}";
                if (!ao.TryGetPropertyValue(key, out var av))
                {
                    ops.Add((JsonNode)new JsonObject { ["op"] = "add", ["path"] = child, ["value"] = bv?.DeepClone() });
                }
                else
                {
                    JsonDiff(av, bv, child, ops);
                }
            }
            return;
        }
        if (!JsonNode.DeepEquals(a, b))
        {
            ops.Add((JsonNode)new JsonObject { ["op"] = "replace", ["path"] = pointer, ["value"] = b?.DeepClone() });
        }
    }

    private static string Escape(string key) => key.Replace("~", "~0").Replace("/", "~1");
}
