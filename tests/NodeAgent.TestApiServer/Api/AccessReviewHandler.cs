using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// SubjectAccessReview, LocalSubjectAccessReview and SelfSubjectAccessReview (authorization.k8s.io/v1), answered by
/// the same <see cref="Authorizer"/> that judges requests (so <c>kubectl auth can-i</c>, with or without
/// <c>--as</c>, says what a request would meet), and SelfSubjectReview (authentication.k8s.io/v1,
/// <c>kubectl auth whoami</c>). Reviews are not stored: the answer is the review with its status filled in.
/// </summary>
public sealed class AccessReviewHandler(Authorizer authorizer)
{
    public async Task ReviewAsync(HttpContext context, RequestInfo r, UserInfo requester)
    {
        if (await HttpIo.ReadBodyAsync(context) is not JsonObject review)
        {
            throw ApiError.BadRequest($"the body must be a {r.Resource.Kind}");
        }
        var kind = r.Resource.Kind;
        var given = review["kind"]?.ToString();
        if (!string.IsNullOrEmpty(given) && given != kind)
        {
            throw ApiError.BadRequest($"the kind in the data ({given}) does not match the expected kind ({kind})");
        }
        var spec = review["spec"] as JsonObject ?? new JsonObject();
        JsonObject status;
        if (kind == "SelfSubjectReview")
        {
            status = new JsonObject { ["userInfo"] = UserJson(requester) };
        }
        else
        {
            var subject = kind == "SubjectAccessReview" || kind == "LocalSubjectAccessReview" ? Subject(r.Resource, spec) : requester;
            var attributes = Attributes(r, spec);
            var decision = authorizer.Decide(subject, attributes);
            status = new JsonObject { ["allowed"] = decision.Allowed };
            if (decision.Reason.Length > 0)
            {
                status["reason"] = decision.Reason;
            }
        }
        var answer = new JsonObject
        {
            ["kind"] = kind,
            ["apiVersion"] = r.Resource.GroupVersion,
            ["metadata"] = new JsonObject { ["creationTimestamp"] = null },
        };
        if (r.Namespace is not null)
        {
            answer["metadata"]!["namespace"] = r.Namespace;
        }
        if (kind != "SelfSubjectReview")
        {
            answer["spec"] = spec.DeepClone();
        }
        answer["status"] = status;
        await HttpIo.WriteJsonAsync(context, 201, answer);
    }

    private static JsonObject UserJson(UserInfo user) => new()
    {
        ["username"] = user.Name,
        ["groups"] = new JsonArray(user.Groups.Select(g => (JsonNode?)JsonValue.Create(g)).ToArray()),
    };

    /// <summary>The user a (Local)SubjectAccessReview asks about: as given, groups as given (the server adds none, as the real one).</summary>
    private static UserInfo Subject(ResourceInfo resource, JsonObject spec)
    {
        var user = spec["user"]?.ToString() ?? "";
        var groups = (spec["groups"] as JsonArray ?? []).Select(g => g?.ToString() ?? "").Where(g => g.Length > 0).ToList();
        if (user.Length == 0 && groups.Count == 0)
        {
            throw ApiError.Invalid(resource, "", ("spec.user", "FieldValueInvalid", "Invalid value: \"\": at least one of user or group must be specified"));
        }
        return new UserInfo(user, groups);
    }

    private static AccessAttributes Attributes(RequestInfo r, JsonObject spec)
    {
        var res = spec["resourceAttributes"] as JsonObject;
        var nonRes = spec["nonResourceAttributes"] as JsonObject;
        if ((res is null) == (nonRes is null))
        {
            throw res is null
                ? ApiError.Invalid(r.Resource, "", ("spec.resourceAttributes", "FieldValueRequired", "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified"))
                : ApiError.Invalid(r.Resource, "", ("spec.nonResourceAttributes", "FieldValueInvalid", "Invalid value: \"\": cannot be specified in combination with resourceAttributes"));
        }
        if (nonRes is not null)
        {
            return AccessAttributes.NonResource(nonRes["verb"]?.ToString() ?? "", nonRes["path"]?.ToString() ?? "");
        }
        var ns = res!["namespace"]?.ToString();
        if (r.Namespace is not null && ns != r.Namespace)
        {
            throw ApiError.Invalid(r.Resource, "", ("spec.resourceAttributes.namespace", "FieldValueInvalid", $"Invalid value: \"{ns}\": must match metadata.namespace"));
        }
        return new AccessAttributes(
            res["verb"]?.ToString() ?? "",
            res["group"]?.ToString() ?? "",
            res["resource"]?.ToString() ?? "",
            res["subresource"]?.ToString() is { Length: > 0 } sub ? sub : null,
            ns is { Length: > 0 } ? ns : null,
            res["name"]?.ToString() is { Length: > 0 } name ? name : null,
            SelectedName(res["fieldSelector"]?["rawSelector"]?.ToString()));
    }

    /// <summary>The name a raw field selector pins with <c>metadata.name=X</c> (or <c>==</c>), if any.</summary>
    private static string? SelectedName(string? raw)
    {
        foreach (var term in (raw ?? "").Split(',', StringSplitOptions.TrimEntries))
        {
            var parts = term.Replace("==", "=", StringComparison.Ordinal).Split('=', 2);
            if (parts.Length == 2 && !parts[0].EndsWith('!') && parts[0].Trim() == "metadata.name")
            {
                return parts[1].Trim();
            }
        }
        return null;
    }
}
