using System.Text.Json.Nodes;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// Legacy (unaggregated) discovery documents and a small OpenAPI v3: enough for kubectl to map kinds to resources,
/// and to learn that every path takes the <c>fieldValidation</c> parameter (so kubectl's default
/// <c>--validate=strict</c> is done by the server, which rejects unknown fields).
/// </summary>
public static class Discovery
{
    public const string GitVersion = "v1.32.0";

    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = GitVersion,
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2026-01-01T00:00:00Z",
        ["goVersion"] = "go1.23",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    public static JsonObject CoreVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public static JsonObject Groups()
    {
        var groups = new JsonArray();
        foreach (var g in ResourceCatalog.Groups)
        {
            var gv = new JsonObject { ["groupVersion"] = $"{g}/v1", ["version"] = "v1" };
            groups.Add(new JsonObject
            {
                ["name"] = g,
                ["versions"] = new JsonArray(gv.DeepClone()),
                ["preferredVersion"] = gv,
            });
        }
        return new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = groups };
    }

    public static JsonObject? Group(string group)
    {
        if (!ResourceCatalog.Groups.Contains(group))
        {
            return null;
        }
        var gv = new JsonObject { ["groupVersion"] = $"{group}/v1", ["version"] = "v1" };
        return new JsonObject
        {
            ["kind"] = "APIGroup",
            ["apiVersion"] = "v1",
            ["name"] = group,
            ["versions"] = new JsonArray(gv.DeepClone()),
            ["preferredVersion"] = gv,
        };
    }

    public static JsonObject? Resources(string group, string version)
    {
        var list = ResourceCatalog.All.Where(r => r.Group == group && r.Version == version).ToList();
        if (list.Count == 0)
        {
            return null;
        }
        var resources = new JsonArray();
        foreach (var r in list)
        {
            var main = new JsonObject
            {
                ["name"] = r.Plural,
                ["singularName"] = r.Singular,
                ["namespaced"] = r.Namespaced,
                ["kind"] = r.Kind,
                ["verbs"] = r.IsReview ? new JsonArray("create") : new JsonArray("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
            };
            if (r.ShortNames.Length > 0)
            {
                main["shortNames"] = new JsonArray(r.ShortNames.Select(s => (JsonNode?)s).ToArray());
            }
            if (r.Plural is "pods" or "services" or "configmaps" or "secrets" or "serviceaccounts" or "events")
            {
                main["categories"] = r.Plural is "pods" or "services" ? new JsonArray("all") : null;
                if (main["categories"] is null)
                {
                    main.Remove("categories");
                }
            }
            resources.Add(main);
            foreach (var sub in r.Subresources)
            {
                resources.Add(new JsonObject
                {
                    ["name"] = $"{r.Plural}/{sub}",
                    ["singularName"] = "",
                    ["namespaced"] = r.Namespaced,
                    ["kind"] = sub switch { "binding" => "Binding", "eviction" => "Eviction", "token" => "TokenRequest", _ => r.Kind },
                    ["group"] = sub switch { "eviction" => "policy", "token" => "authentication.k8s.io", _ => null },
                    ["version"] = sub is "eviction" or "token" ? "v1" : null,
                    ["verbs"] = sub is "binding" or "eviction" or "token" ? new JsonArray("create") : new JsonArray("get", "patch", "update"),
                });
                var added = (JsonObject)resources[^1]!;
                foreach (var key in added.Where(kv => kv.Value is null).Select(kv => kv.Key).ToList())
                {
                    added.Remove(key);
                }
            }
        }
        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = resources,
        };
    }

    /// <summary>The OpenAPI v3 root: one document per group/version.</summary>
    public static JsonObject OpenApiV3Root()
    {
        var paths = new JsonObject
        {
            ["api/v1"] = new JsonObject { ["serverRelativeURL"] = "/openapi/v3/api/v1?hash=" + Hash("api/v1") },
        };
        foreach (var g in ResourceCatalog.Groups)
        {
            paths[$"apis/{g}/v1"] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/apis/{g}/v1?hash=" + Hash($"apis/{g}/v1") };
        }
        return new JsonObject { ["paths"] = paths };
    }

    private static string Hash(string s) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(GitVersion + s)));

    /// <summary>
    /// A group/version's OpenAPI v3 document: its paths with their operations, each carrying
    /// <c>x-kubernetes-group-version-kind</c> and the <c>fieldValidation</c>/<c>dryRun</c> parameters; schemas are left
    /// out, so kubectl computes strategic merge patches from its compiled-in types, as it does with OpenAPI off.
    /// </summary>
    public static JsonObject? OpenApiV3(string group, string version)
    {
        var list = ResourceCatalog.All.Where(r => r.Group == group && r.Version == version).ToList();
        if (list.Count == 0)
        {
            return null;
        }
        var paths = new JsonObject();
        foreach (var r in list)
        {
            var prefix = group.Length == 0 ? "/api/v1" : $"/apis/{group}/{version}";
            var collection = r.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{r.Plural}" : $"{prefix}/{r.Plural}";
            JsonObject Op(string id, bool body, string[]? patchTypes = null)
            {
                var op = new JsonObject
                {
                    ["operationId"] = id,
                    ["x-kubernetes-group-version-kind"] = new JsonObject { ["group"] = group, ["version"] = version, ["kind"] = r.Kind },
                    ["parameters"] = new JsonArray(
                        new JsonObject { ["name"] = "dryRun", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } },
                        new JsonObject { ["name"] = "fieldManager", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } },
                        new JsonObject { ["name"] = "fieldValidation", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } }),
                    ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
                };
                if (body)
                {
                    var content = new JsonObject();
                    foreach (var t in patchTypes ?? ["*/*"])
                    {
                        content[t] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "object" } };
                    }
                    op["requestBody"] = new JsonObject { ["content"] = content, ["required"] = true };
                }
                return op;
            }
            paths[collection] = new JsonObject { ["post"] = Op("create" + r.Kind, true) };
            paths[collection + "/{name}"] = new JsonObject
            {
                ["put"] = Op("replace" + r.Kind, true),
                ["patch"] = Op("patch" + r.Kind, true, ["application/json-patch+json", "application/merge-patch+json"]),
            };
        }
        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = GitVersion },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = new JsonObject() },
        };
    }
}
