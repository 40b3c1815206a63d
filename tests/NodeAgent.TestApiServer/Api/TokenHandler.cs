using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// The TokenRequest API (<c>serviceaccounts/NAME/token</c>) and the service-account token authenticator behind it:
/// tokens at least 10 minutes long, bound to a pod when asked (a node may only ask for pods bound to it), valid while
/// the service account and the bound pod still exist with the same UIDs; and TokenReview.
/// </summary>
public sealed class TokenHandler(ObjectStore store, TokenIssuer issuer, TimeProvider time)
{
    public async Task CreateTokenAsync(HttpContext context, RequestInfo r, UserInfo user)
    {
        if (await HttpIo.ReadBodyAsync(context) is not JsonObject request)
        {
            throw ApiError.BadRequest("the body must be a TokenRequest");
        }
        var sa = store.Get("serviceaccounts", r.Namespace!, r.Name!)?.Parse() ?? throw ApiError.NotFound(r.Resource, r.Name!);
        var spec = request["spec"] as JsonObject ?? new JsonObject();
        var seconds = spec["expirationSeconds"].AsLong() ?? 3600;
        if (seconds < 600)
        {
            throw ApiError.Invalid(r.Resource with { Kind = "TokenRequest" }, r.Name!, ("spec.expirationSeconds", "FieldValueInvalid", $"Invalid value: {seconds}: may not specify a duration less than 10 minutes"));
        }
        if (seconds > 1L << 32)
        {
            throw ApiError.Invalid(r.Resource with { Kind = "TokenRequest" }, r.Name!, ("spec.expirationSeconds", "FieldValueTooLong", $"Invalid value: {seconds}: may not specify a duration larger than 2^32 seconds"));
        }
        var audiences = (spec["audiences"] as JsonArray ?? []).Select(a => a?.ToString()).Where(a => !string.IsNullOrEmpty(a)).ToList();
        if (audiences.Count == 0)
        {
            audiences.Add(TokenIssuer.Issuer);
        }
        JsonObject? pod = null;
        if (spec["boundObjectRef"] is JsonObject bound)
        {
            if (bound["kind"]?.ToString() != "Pod")
            {
                throw ApiError.BadRequest($"cannot bind token to object of kind {bound["kind"]}: only Pod is supported by the test server");
            }
            pod = store.Get("pods", r.Namespace!, bound["name"]?.ToString() ?? "")?.Parse()
                ?? throw ApiError.NotFound(ResourceCatalog.Get("pods"), bound["name"]?.ToString() ?? "");
            if (bound["uid"]?.ToString() is { Length: > 0 } uid && uid != pod["metadata"]?["uid"]?.ToString())
            {
                throw new ApiError(409, "Conflict", $"the UID in the bound object reference ({uid}) does not match the UID in record. The object might have been deleted and then recreated");
            }
            if (pod["spec"]?["serviceAccountName"]?.ToString() is { Length: > 0 } podSa && podSa != r.Name)
            {
                throw ApiError.BadRequest($"cannot bind token to a pod running as service account \"{podSa}\"");
            }
        }
        if (user.NodeName is { } node && (pod is null || pod["spec"]?["nodeName"]?.ToString() != node))
        {
            throw ApiError.Forbidden(r.Resource, r.Name, $"node \"{node}\" can only create tokens bound to pods scheduled to itself");
        }
        var now = time.GetUtcNow();
        var exp = now.AddSeconds(seconds);
        var k8s = new JsonObject
        {
            ["namespace"] = r.Namespace,
            ["serviceaccount"] = new JsonObject { ["name"] = r.Name, ["uid"] = sa["metadata"]?["uid"]?.ToString() },
        };
        if (pod is not null)
        {
            k8s["pod"] = new JsonObject { ["name"] = pod["metadata"]!["name"]!.ToString(), ["uid"] = pod["metadata"]!["uid"]?.ToString() };
            if (pod["spec"]?["nodeName"]?.ToString() is { Length: > 0 } nodeName)
            {
                k8s["node"] = new JsonObject { ["name"] = nodeName, ["uid"] = store.Get("nodes", "", nodeName)?.Parse()["metadata"]?["uid"]?.ToString() };
            }
        }
        var claims = new JsonObject
        {
            ["aud"] = new JsonArray(audiences.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
            ["exp"] = exp.ToUnixTimeSeconds(),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["iss"] = TokenIssuer.Issuer,
            ["jti"] = Guid.NewGuid().ToString(),
            ["kubernetes.io"] = k8s,
            ["sub"] = $"system:serviceaccount:{r.Namespace}:{r.Name}",
        };
        var response = new JsonObject
        {
            ["kind"] = "TokenRequest",
            ["apiVersion"] = "authentication.k8s.io/v1",
            ["metadata"] = new JsonObject { ["name"] = r.Name, ["namespace"] = r.Namespace, ["creationTimestamp"] = null },
            ["spec"] = new JsonObject
            {
                ["audiences"] = new JsonArray(audiences.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
                ["expirationSeconds"] = seconds,
                ["boundObjectRef"] = spec["boundObjectRef"]?.DeepClone(),
            },
            ["status"] = new JsonObject { ["token"] = issuer.Sign(claims), ["expirationTimestamp"] = ObjectRules.Timestamp(exp) },
        };
        await HttpIo.WriteJsonAsync(context, 201, response);
    }

    /// <summary>Authenticates a service-account token for the API server's own audience; null when it is not one (or no longer valid).</summary>
    public UserInfo? Authenticate(string token, string audience = TokenIssuer.Issuer)
    {
        var claims = issuer.Verify(token);
        if (claims is null || claims["iss"]?.ToString() != TokenIssuer.Issuer)
        {
            return null;
        }
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        if ((claims["exp"].AsLong() ?? 0) <= now || (claims["nbf"].AsLong() ?? long.MaxValue) > now + 60)
        {
            return null;
        }
        if (!(claims["aud"] as JsonArray ?? []).Any(a => a?.ToString() == audience))
        {
            return null;
        }
        var k8s = claims["kubernetes.io"] as JsonObject;
        var ns = k8s?["namespace"]?.ToString() ?? "";
        var saName = k8s?["serviceaccount"]?["name"]?.ToString() ?? "";
        if (store.Get("serviceaccounts", ns, saName)?.Parse()["metadata"]?["uid"]?.ToString() != k8s?["serviceaccount"]?["uid"]?.ToString())
        {
            return null;
        }
        if (k8s?["pod"] is JsonObject pod && store.Get("pods", ns, pod["name"]?.ToString() ?? "")?.Parse()["metadata"]?["uid"]?.ToString() != pod["uid"]?.ToString())
        {
            return null;
        }
        return new UserInfo($"system:serviceaccount:{ns}:{saName}", ["system:serviceaccounts", $"system:serviceaccounts:{ns}", "system:authenticated"]);
    }

    /// <summary>TokenReview: the token is judged by the server's token authenticators (static, bootstrap and
    /// service-account tokens, as the real server's union of them; <paramref name="staticTokens"/> is the static and
    /// bootstrap part), the service-account ones for the review's audience.</summary>
    public async Task ReviewAsync(HttpContext context, Func<string, UserInfo?> staticTokens)
    {
        if (await HttpIo.ReadBodyAsync(context) is not JsonObject review || review["spec"]?["token"]?.ToString() is not { Length: > 0 } token)
        {
            throw new ApiError(422, "Invalid", "TokenReview.authentication.k8s.io \"\" is invalid: spec.token: Required value");
        }
        var audiences = (review["spec"]?["audiences"] as JsonArray ?? []).Select(a => a?.ToString() ?? "").ToList();
        var audience = audiences.FirstOrDefault() ?? TokenIssuer.Issuer;
        var user = staticTokens(token) ?? Authenticate(token, audience);
        var status = new JsonObject { ["authenticated"] = user is not null };
        if (user is not null)
        {
            status["user"] = new JsonObject
            {
                ["username"] = user.Name,
                ["groups"] = new JsonArray(user.Groups.Select(g => (JsonNode?)JsonValue.Create(g)).ToArray()),
            };
            status["audiences"] = new JsonArray(audience);
        }
        else
        {
            status["error"] = "[invalid bearer token, service account token has been invalidated]";
        }
        await HttpIo.WriteJsonAsync(context, 201, new JsonObject
        {
            ["kind"] = "TokenReview",
            ["apiVersion"] = "authentication.k8s.io/v1",
            ["metadata"] = new JsonObject { ["creationTimestamp"] = null },
            ["spec"] = review["spec"]!.DeepClone(),
            ["status"] = status,
        });
    }
}
