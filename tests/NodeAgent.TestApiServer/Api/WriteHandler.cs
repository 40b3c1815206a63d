using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// create, update (PUT), patch and delete, each decided atomically against the stored object: optimistic
/// concurrency (409 on a stale resourceVersion), status subresource separation, generation bumps on spec change,
/// NodeRestriction, graceful pod deletion (a pod bound to a node stays terminating until deleted with grace 0) and
/// finalizers; plus pods/binding.
/// </summary>
public sealed class WriteHandler(ObjectStore store, TimeProvider time, Controllers.ServiceAllocator services, DisruptionBudgets budgets)
{
    public async Task CreateAsync(HttpContext context, RequestInfo r, UserInfo user)
    {
        var body = await ReadObjectAsync(context, r);
        var warnings = new List<string>();
        var obj = ObjectRules.Decode(r.Resource, body, context.Request.Query["fieldValidation"], warnings);
        var meta = obj["metadata"] as JsonObject ?? new JsonObject();
        obj["metadata"] = meta;
        if (meta["name"]?.ToString() is not { Length: > 0 } && meta["generateName"]?.ToString() is { Length: > 0 } prefix)
        {
            meta["name"] = prefix + RandomSuffix();
        }
        var name = meta["name"]?.ToString();
        ObjectRules.ValidateName(r.Resource, name);
        SetNamespace(r, meta);
        if (r.Resource.View is { } view)
        {
            view.ValidateCreate(r.Resource, obj);
            obj = view.ToStored(obj);
        }
        ObjectRules.Validate(r.Resource, obj);
        RequireNamespace(r, name);
        var stored = store.Write(r.Resource.Key, r.Namespace ?? "", name!, (current, _) =>
        {
            if (current is not null)
            {
                throw new ApiError(409, "AlreadyExists", $"{r.Resource.QualifiedName} \"{name}\" already exists", name, r.Resource.Plural, r.Resource.Group);
            }
            ObjectRules.PrepareForCreate(r.Resource, obj, time);
            if (r.Resource.Plural == "certificatesigningrequests")
            {
                // The server records who asked; status starts empty.
                var spec = obj["spec"] as JsonObject ?? new JsonObject();
                obj["spec"] = spec;
                spec["username"] = user.Name;
                spec["groups"] = new JsonArray(user.Groups.Select(g => (JsonNode?)JsonValue.Create(g)).ToArray());
                obj["status"] = new JsonObject();
            }
            if (r.Resource.Plural == "services")
            {
                services.Allocate(r.Resource, obj, null);
            }
            NodeAdmission.Admit(user, r with { Name = name }, null, obj, NodeUid);
            return new StoreChange.Put(obj);
        });
        AddWarnings(context, warnings);
        await HttpIo.WriteBytesAsync(context, 201, r.Resource.Out(stored!));
    }

    public async Task UpdateAsync(HttpContext context, RequestInfo r, UserInfo user)
    {
        var body = await ReadObjectAsync(context, r);
        var warnings = new List<string>();
        var obj = ObjectRules.Decode(r.Resource, body, context.Request.Query["fieldValidation"], warnings);
        var meta = obj["metadata"] as JsonObject ?? new JsonObject();
        obj["metadata"] = meta;
        if (meta["name"]?.ToString() != r.Name)
        {
            throw ApiError.BadRequest($"the name of the object ({meta["name"]}) does not match the name on the URL ({r.Name})");
        }
        SetNamespace(r, meta);
        var stored = Commit(r, user, meta["resourceVersion"]?.ToString(), _ => obj);
        AddWarnings(context, warnings);
        await HttpIo.WriteBytesAsync(context, 200, r.Resource.Out(stored));
    }

    public async Task PatchAsync(HttpContext context, RequestInfo r, UserInfo user)
    {
        var type = context.Request.ContentType?.Split(';')[0].Trim() ?? "";
        Func<JsonObject, JsonNode, JsonObject> apply = type switch
        {
            "application/strategic-merge-patch+json" => Patching.Strategic,
            "application/merge-patch+json" => Patching.JsonMerge,
            "application/json-patch+json" => Patching.Json,
            _ => throw new ApiError(415, "UnsupportedMediaType",
                $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json"),
        };
        var patch = await HttpIo.ReadBodyAsync(context);
        var warnings = new List<string>();
        var fieldValidation = context.Request.Query["fieldValidation"].ToString();
        var stored = Commit(r, user, null, current =>
        {
            var patched = apply(current, patch);
            var decoded = ObjectRules.Decode(r.Resource, patched, fieldValidation, warnings);
            if (decoded["metadata"]?["name"]?.ToString() != r.Name)
            {
                throw ApiError.BadRequest("metadata.name cannot be changed by a patch");
            }
            return decoded;
        });
        AddWarnings(context, warnings);
        await HttpIo.WriteBytesAsync(context, 200, r.Resource.Out(stored));
    }

    /// <summary>The shared update path: precondition on resourceVersion, immutable metadata kept, status/spec separation, generation, admission.</summary>
    private StoredObject Commit(RequestInfo r, UserInfo user, string? expectedRv, Func<JsonObject, JsonObject> change)
    {
        return store.Write(r.Resource.Key, r.Namespace ?? "", r.Name!, (current, old) =>
        {
            if (current is null)
            {
                throw ApiError.NotFound(r.Resource, r.Name!);
            }
            var view = r.Resource.View;
            var updated = change(view is null ? (JsonObject)current.DeepClone() : view.FromStored(current));
            if (view is not null)
            {
                updated = view.ToStored(updated);
            }
            var rv = expectedRv ?? updated["metadata"]?["resourceVersion"]?.ToString();
            if (!string.IsNullOrEmpty(rv) && rv != old!.ResourceVersion.ToString(CultureInfo.InvariantCulture))
            {
                throw ApiError.Conflict(r.Resource, r.Name!, "the object has been modified; please apply your changes to the latest version and try again");
            }
            var meta = updated["metadata"] as JsonObject ?? new JsonObject();
            updated["metadata"] = meta;
            var oldMeta = current["metadata"]!.AsObject();
            foreach (var key in new[] { "uid", "creationTimestamp", "namespace", "name", "deletionTimestamp", "deletionGracePeriodSeconds", "generation" })
            {
                meta[key] = oldMeta[key]?.DeepClone();
                if (meta[key] is null)
                {
                    meta.Remove(key);
                }
            }
            if (r.Subresource == "approval")
            {
                // The approval subresource changes only the approval conditions.
                var conditions = updated["status"]?["conditions"]?.DeepClone();
                updated = (JsonObject)current.DeepClone();
                var status = updated["status"] as JsonObject ?? new JsonObject();
                updated["status"] = status;
                status["conditions"] = conditions;
            }
            else if (r.Subresource == "status")
            {
                // A status write changes status only (the pod and node status strategies keep the rest as stored).
                var status = updated["status"]?.DeepClone();
                updated = (JsonObject)current.DeepClone();
                updated["status"] = status;
            }
            else if (r.Resource.HasStatus)
            {
                updated["status"] = current["status"]?.DeepClone();
                if (updated["status"] is null)
                {
                    updated.Remove("status");
                }
            }
            if (r.Subresource is null && r.Resource.Plural == "pods")
            {
                // Both sides defaulted, as the real server decodes (and defaults) the stored object too.
                ObjectRules.DefaultOnUpdate(r.Resource, updated);
                var before = (JsonObject)current.DeepClone();
                ObjectRules.DefaultOnUpdate(r.Resource, before);
                PodUpdateRules.Validate(r.Resource, r.Name!, before["spec"] as JsonObject, updated["spec"] as JsonObject);
            }
            if (r.Subresource is null && !JsonNode.DeepEquals(current["spec"], updated["spec"]) && meta["generation"] is not null)
            {
                meta["generation"] = (meta["generation"].AsLong() ?? 0) + 1;
            }
            if (r.Resource.Plural == "services" && r.Subresource is null)
            {
                services.Allocate(r.Resource, updated, current);
            }
            ObjectRules.Validate(r.Resource, updated);
            NodeAdmission.Admit(user, r, current, updated, NodeUid);
            if (meta["deletionTimestamp"] is not null && (meta["finalizers"] as JsonArray ?? []).Count == 0 && (current["metadata"]?["finalizers"] as JsonArray ?? []).Count > 0
                && !(r.Resource.Plural == "pods" && current["spec"]?["nodeName"] is not null && meta["deletionGracePeriodSeconds"].AsLong() != 0))
            {
                return new StoreChange.Remove();
            }
            return new StoreChange.Put(updated);
        })!;
    }

    public async Task DeleteAsync(HttpContext context, RequestInfo r, UserInfo user)
    {
        var q = context.Request.Query;
        long? grace = q["gracePeriodSeconds"].ToString() is { Length: > 0 } g && long.TryParse(g, CultureInfo.InvariantCulture, out var gv) ? gv : null;
        string? uid = null, rv = null;
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            if (await HttpIo.ReadBodyAsync(context) is JsonObject options)
            {
                grace = options["gracePeriodSeconds"].AsLong() ?? grace;
                uid = options["preconditions"]?["uid"]?.ToString();
                rv = options["preconditions"]?["resourceVersion"]?.ToString();
            }
        }
        var stored = Delete(r, user, grace, uid, rv);
        await HttpIo.WriteBytesAsync(context, 200, r.Resource.Out(stored));
    }

    /// <summary>policy/v1 Eviction: a delete through the eviction subresource, when the pod's PodDisruptionBudget allows it.</summary>
    public async Task EvictAsync(HttpContext context, RequestInfo r, UserInfo user)
    {
        if (await HttpIo.ReadBodyAsync(context) is not JsonObject eviction)
        {
            throw ApiError.BadRequest("the body must be an Eviction");
        }
        if (eviction["metadata"]?["name"]?.ToString() is { Length: > 0 } named && named != r.Name)
        {
            throw ApiError.BadRequest($"name in URL does not match name in Eviction object");
        }
        var options = eviction["deleteOptions"] as JsonObject;
        var pod = store.Get(r.Resource.Key, r.Namespace ?? "", r.Name!)?.Parse() ?? throw ApiError.NotFound(r.Resource, r.Name!);
        budgets.CheckEviction(r.Resource, pod);
        Delete(r, user, options?["gracePeriodSeconds"].AsLong(), options?["preconditions"]?["uid"]?.ToString(), options?["preconditions"]?["resourceVersion"]?.ToString());
        await HttpIo.WriteJsonAsync(context, 201, new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success", ["code"] = 201 });
    }

    /// <summary>DELETE on a collection: each selected object is deleted as by a single delete; the answer lists them as left.</summary>
    public async Task DeleteCollectionAsync(HttpContext context, RequestInfo r, UserInfo user, LabelSelector labels, FieldSelector fields)
    {
        long? grace = context.Request.Query["gracePeriodSeconds"].ToString() is { Length: > 0 } g && long.TryParse(g, CultureInfo.InvariantCulture, out var gv) ? gv : null;
        var (items, _) = store.List(r.Resource.Key, r.Namespace, o => labels.Matches(o) && fields.Matches(o));
        var results = new JsonArray();
        foreach (var item in items)
        {
            try
            {
                results.Add((JsonNode)r.Resource.Shown(Delete(r with { Name = item.Name, Namespace = r.Resource.Namespaced ? item.Namespace : null }, user, grace, null, null)));
            }
            catch (ApiError e) when (e.Code == 404)
            {
                // Deleted meanwhile.
            }
        }
        await HttpIo.WriteJsonAsync(context, 200, new JsonObject
        {
            ["kind"] = r.Resource.Kind + "List",
            ["apiVersion"] = r.Resource.GroupVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = store.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture) },
            ["items"] = results,
        });
    }

    /// <summary>A delete as an API DELETE does it (graceful pods, finalizers), for controllers (the namespace controller).</summary>
    public StoredObject Delete(RequestInfo r, UserInfo user) => Delete(r, user, null, null, null);

    private StoredObject Delete(RequestInfo r, UserInfo user, long? grace, string? uid, string? rv)
    {
        if (grace is < 0)
        {
            grace = 0;
        }
        if (r.Resource.Plural == "namespaces" && r.Name is "default" or "kube-system" or "kube-public")
        {
            throw ApiError.Forbidden(r.Resource, r.Name, "this namespace may not be deleted");
        }
        return store.Write(r.Resource.Key, r.Namespace ?? "", r.Name!, (current, old) =>
        {
            if (current is null)
            {
                throw ApiError.NotFound(r.Resource, r.Name!);
            }
            var meta = current["metadata"]!.AsObject();
            if (uid is not null && meta["uid"]?.ToString() != uid)
            {
                throw ApiError.Conflict(r.Resource, r.Name!, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {meta["uid"]}");
            }
            if (rv is not null && old!.ResourceVersion.ToString(CultureInfo.InvariantCulture) != rv)
            {
                throw ApiError.Conflict(r.Resource, r.Name!, $"Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {old.ResourceVersion}");
            }
            NodeAdmission.Admit(user, r, current, null, NodeUid);
            var finalizers = meta["finalizers"] as JsonArray ?? [];
            if (r.Resource.Plural == "namespaces" && (current["spec"]?["finalizers"] as JsonArray ?? []).Count > 0)
            {
                // Terminating until the namespace controller has removed the contents and its "kubernetes" finalizer.
                if (meta["deletionTimestamp"] is not null)
                {
                    return new StoreChange.Nothing();
                }
                meta["deletionTimestamp"] = ObjectRules.Timestamp(time.GetUtcNow());
                meta["deletionGracePeriodSeconds"] = 0;
                current["status"] = new JsonObject { ["phase"] = "Terminating" };
                return new StoreChange.Put(current);
            }
            if (r.Resource.Plural == "pods" && IsGraceful(current))
            {
                var podGrace = grace ?? current["spec"]?["terminationGracePeriodSeconds"].AsLong() ?? 30;
                var already = meta["deletionGracePeriodSeconds"].AsLong();
                if (podGrace > 0 || finalizers.Count > 0)
                {
                    if (already is null || podGrace < already)
                    {
                        meta["deletionTimestamp"] = ObjectRules.Timestamp(time.GetUtcNow().AddSeconds(podGrace));
                        meta["deletionGracePeriodSeconds"] = podGrace;
                        return new StoreChange.Put(current);
                    }
                    return new StoreChange.Nothing();
                }
            }
            if (finalizers.Count > 0)
            {
                if (meta["deletionTimestamp"] is null)
                {
                    meta["deletionTimestamp"] = ObjectRules.Timestamp(time.GetUtcNow());
                    meta["deletionGracePeriodSeconds"] = 0;
                    return new StoreChange.Put(current);
                }
                return new StoreChange.Nothing();
            }
            return new StoreChange.Remove();
        })!;
    }

    /// <summary>A pod bound to a node and not finished is deleted gracefully: the kubelet must confirm with grace 0.</summary>
    private static bool IsGraceful(JsonObject pod) =>
        pod["spec"]?["nodeName"]?.ToString() is { Length: > 0 } && pod["status"]?["phase"]?.ToString() is not ("Succeeded" or "Failed");

    public async Task BindAsync(HttpContext context, RequestInfo r)
    {
        if (await HttpIo.ReadBodyAsync(context) is not JsonObject binding || binding["target"]?["name"]?.ToString() is not { Length: > 0 } node)
        {
            throw ApiError.Invalid(r.Resource, r.Name!, ("target.name", "FieldValueRequired", "Required value"));
        }
        store.Write(r.Resource.Key, r.Namespace ?? "", r.Name!, (current, _) =>
        {
            if (current is null)
            {
                throw ApiError.NotFound(r.Resource, r.Name!);
            }
            if (current["spec"]?["nodeName"]?.ToString() is { Length: > 0 } existing)
            {
                throw ApiError.Conflict(r.Resource, r.Name!, $"pod {r.Name} is already assigned to node \"{existing}\"");
            }
            if (current["metadata"]?["deletionTimestamp"] is not null)
            {
                throw ApiError.Conflict(r.Resource, r.Name!, $"pod {r.Name} is being deleted, cannot be assigned to a host");
            }
            current["spec"]!["nodeName"] = node;
            var conditions = current["status"]?["conditions"] as JsonArray ?? new JsonArray();
            conditions.Add(new JsonObject { ["type"] = "PodScheduled", ["status"] = "True", ["lastProbeTime"] = null, ["lastTransitionTime"] = ObjectRules.Timestamp(time.GetUtcNow()) });
            current["status"]!["conditions"] = conditions;
            return new StoreChange.Put(current);
        });
        await HttpIo.WriteJsonAsync(context, 201, new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success", ["code"] = 201 });
    }

    private string? NodeUid(string node) => store.Get("nodes", "", node)?.Parse()["metadata"]?["uid"]?.ToString();

    private async Task<JsonObject> ReadObjectAsync(HttpContext context, RequestInfo r)
    {
        if (await HttpIo.ReadBodyAsync(context) is not JsonObject obj)
        {
            throw ApiError.BadRequest($"the body must be a {r.Resource.Kind} object");
        }
        var apiVersion = obj["apiVersion"]?.ToString();
        var kind = obj["kind"]?.ToString();
        if (!string.IsNullOrEmpty(apiVersion) && apiVersion != r.Resource.GroupVersion)
        {
            throw ApiError.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({r.Resource.GroupVersion})");
        }
        if (!string.IsNullOrEmpty(kind) && kind != r.Resource.Kind)
        {
            throw ApiError.BadRequest($"the kind in the data ({kind}) does not match the expected kind ({r.Resource.Kind})");
        }
        obj["apiVersion"] = r.Resource.GroupVersion;
        obj["kind"] = r.Resource.Kind;
        return obj;
    }

    private static void SetNamespace(RequestInfo r, JsonObject meta)
    {
        if (!r.Resource.Namespaced)
        {
            meta.Remove("namespace");
            return;
        }
        var given = meta["namespace"]?.ToString();
        if (!string.IsNullOrEmpty(given) && given != r.Namespace)
        {
            throw ApiError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }
        meta["namespace"] = r.Namespace;
    }

    private void RequireNamespace(RequestInfo r, string? name)
    {
        if (!r.Resource.Namespaced)
        {
            return;
        }
        var ns = store.Get("namespaces", "", r.Namespace!)?.Parse();
        if (ns is null)
        {
            throw new ApiError(404, "NotFound", $"namespaces \"{r.Namespace}\" not found", r.Namespace, "namespaces");
        }
        if (ns["metadata"]?["deletionTimestamp"] is not null)
        {
            var e = ApiError.Forbidden(r.Resource, name, $"unable to create new content in namespace {r.Namespace} because it is being terminated");
            e.Causes.Add(("NamespaceTerminating", $"namespace {r.Namespace} is being terminated", "metadata.namespace"));
            throw e;
        }
    }

    private static void AddWarnings(HttpContext context, List<string> warnings)
    {
        foreach (var w in warnings)
        {
            context.Response.Headers.Append("Warning", $"299 - \"{w.Replace("\"", "\\\"")}\"");
        }
    }

    private static string RandomSuffix()
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Create(5, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[System.Security.Cryptography.RandomNumberGenerator.GetInt32(alphabet.Length)];
            }
        });
    }
}
