using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// The request pipeline: authenticate, parse the path (discovery, OpenAPI, or a resource request), authorize, and
/// dispatch to the read or write handler; every error leaves as a Status body.
/// </summary>
public sealed class ApiRouter(Authenticator authenticator, Authorizer authorizer, ReadHandler reads, WriteHandler writes, TokenHandler tokens, AccessReviewHandler accessReviews, KubeletProxy kubelets)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string User, string Verb, string Resource), long> _requests = new();
    private int _throttle;

    /// <summary>Authorized resource requests so far, by user, verb and resource (<c>pods/status</c> for a subresource).</summary>
    public IReadOnlyDictionary<(string User, string Verb, string Resource), long> Requests => _requests;

    /// <summary>Answers the next <paramref name="count"/> requests 429 with <c>Retry-After: 1</c>, as API Priority and Fairness does when a queue is full.</summary>
    public void Throttle(int count) => Interlocked.Exchange(ref _throttle, count);

    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            if (Volatile.Read(ref _throttle) > 0 && Interlocked.Decrement(ref _throttle) >= 0)
            {
                context.Response.Headers.RetryAfter = "1";
                throw new ApiError(429, "TooManyRequests", "Too many requests, please try again later.");
            }
            var user = authenticator.Authenticate(context)
                ?? throw new ApiError(401, "Unauthorized", "Unauthorized");
            await RouteAsync(context, Impersonation.Apply(context.Request.Headers, user, authorizer));
        }
        catch (ApiError e)
        {
            if (!context.Response.HasStarted)
            {
                await HttpIo.WriteErrorAsync(context, e);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A server bug must still answer as the real server does (500 InternalError), and say what broke.
            Console.Error.WriteLine($"{context.Request.Method} {context.Request.Path}: {e}");
            if (!context.Response.HasStarted)
            {
                await HttpIo.WriteErrorAsync(context, new ApiError(500, "InternalError", $"Internal error occurred: {e.GetType().Name}: {e.Message}"));
            }
        }
    }

    private async Task RouteAsync(HttpContext context, UserInfo user)
    {
        var path = context.Request.Path.Value ?? "/";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var method = context.Request.Method;
        if (path is "/healthz" or "/livez" or "/readyz")
        {
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("ok");
            return;
        }
        if (path == "/metrics")
        {
            if (!user.IsAdmin)
            {
                throw Authorizer.DenyPath(user, method.ToLowerInvariant(), path);
            }

            context.Response.ContentType = "text/plain; version=0.0.4";
            await context.Response.WriteAsync(RequestMetrics());
            return;
        }
        if (path == "/version")
        {
            await HttpIo.WriteJsonAsync(context, 200, Discovery.Version());
            return;
        }
        if (user == UserInfo.Anonymous)
        {
            throw Authorizer.DenyPath(user, method.ToLowerInvariant(), path);
        }
        if (method == "GET" && await DiscoveryAsync(context, segments))
        {
            return;
        }
        if (await ProxyAsync(context, segments, path, method, user))
        {
            return;
        }
        var request = Parse(segments, method, context) ?? throw new ApiError(404, "NotFound", "the server could not find the requested resource");
        var labels = LabelSelector.Parse(context.Request.Query["labelSelector"]);
        var fields = FieldSelector.Parse(context.Request.Query["fieldSelector"], request.Resource);
        authorizer.Authorize(user, request, fields);
        _requests.AddOrUpdate((user.Name, request.Verb, request.Subresource is null ? request.Resource.Plural : $"{request.Resource.Plural}/{request.Subresource}"), 1, (_, n) => n + 1);
        if (request.Resource.IsReview && request.Verb != "create")
        {
            throw new ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
        }
        switch (request.Verb)
        {
            case "create" when request.Resource.Plural == "tokenreviews":
                await tokens.ReviewAsync(context, authenticator.AuthenticateStaticToken);
                break;
            case "create" when request.Resource.IsReview:
                await accessReviews.ReviewAsync(context, request, user);
                break;
            case "create" when request.Subresource == "token":
                await tokens.CreateTokenAsync(context, request, user);
                break;
            case "get":
                await reads.GetAsync(context, request);
                break;
            case "list":
                await reads.ListAsync(context, request, labels, fields);
                break;
            case "watch":
                await reads.WatchAsync(context, request, labels, fields);
                break;
            case "create" when request.Subresource == "binding":
                await writes.BindAsync(context, request);
                break;
            case "create" when request.Subresource is null:
                await writes.CreateAsync(context, request, user);
                break;
            case "update":
                await writes.UpdateAsync(context, request, user);
                break;
            case "patch":
                await writes.PatchAsync(context, request, user);
                break;
            case "delete" when request.Subresource is null:
                await writes.DeleteAsync(context, request, user);
                break;
            case "create" when request.Subresource == "eviction":
                await writes.EvictAsync(context, request, user);
                break;
            case "deletecollection":
                await writes.DeleteCollectionAsync(context, request, user, labels, fields);
                break;
            default:
                throw new ApiError(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource");
        }
    }

    /// <summary>The kubelet's subresources: <c>nodes/NAME/proxy/…</c> (any method) and <c>pods/NAME/log</c>.</summary>
    private async Task<bool> ProxyAsync(HttpContext context, string[] s, string path, string method, UserInfo user)
    {
        if (s is ["api", "v1", "nodes", var node, "proxy", ..])
        {
            var verb = method switch { "GET" or "HEAD" => "get", "POST" => "create", "PUT" => "update", "PATCH" => "patch", "DELETE" => "delete", _ => method.ToLowerInvariant() };
            authorizer.Authorize(user, new RequestInfo(verb, ResourceCatalog.Get("nodes"), null, node, "proxy"), FieldSelector.Parse(default, ResourceCatalog.Get("nodes")));
            // The rest of the path as sent (escaped), after ".../proxy".
            var prefix = $"/api/v1/nodes/{Uri.EscapeDataString(node)}/proxy";
            var raw = context.Request.Path.Value ?? path;
            var rest = raw.Length > prefix.Length ? raw[(prefix.Length + 1)..] : string.Empty;
            await kubelets.ProxyNodeAsync(context, node, rest);
            return true;
        }
        if (s is ["api", "v1", "namespaces", var ns, "pods", var pod, "log"] && method == "GET")
        {
            authorizer.Authorize(user, new RequestInfo("get", ResourceCatalog.Get("pods"), ns, pod, "log"), FieldSelector.Parse(default, ResourceCatalog.Get("pods")));
            await kubelets.PodLogAsync(context, ns, pod);
            return true;
        }
        return false;
    }

    /// <summary>The request counts in Prometheus' text format. The real server's <c>apiserver_request_total</c> has no user
    /// label; this test-only family has one, so a benchmark can count what one client (the node) asked.</summary>
    private string RequestMetrics()
    {
        var text = new System.Text.StringBuilder("# HELP testapiserver_requests_total Authorized resource requests by user, verb and resource.\n# TYPE testapiserver_requests_total counter\n");
        foreach (var ((who, verb, resource), n) in _requests.OrderBy(kv => kv.Key))
        {
            text.Append($"testapiserver_requests_total{{user=\"{who}\",verb=\"{verb}\",resource=\"{resource}\"}} {n}\n");
        }

        return text.ToString();
    }

    private static async Task<bool> DiscoveryAsync(HttpContext context, string[] s)
    {
        JsonNode? doc = s switch
        {
            ["api"] => Discovery.CoreVersions(context.Request.Host.Value ?? "127.0.0.1"),
            ["api", "v1"] => Discovery.Resources("", "v1"),
            ["apis"] => Discovery.Groups(),
            ["apis", var g] => Discovery.Group(g),
            ["apis", var g, var v] => Discovery.Resources(g, v),
            ["openapi", "v3"] => Discovery.OpenApiV3Root(),
            ["openapi", "v3", "api", "v1"] => Discovery.OpenApiV3("", "v1"),
            ["openapi", "v3", "apis", var g, var v] => Discovery.OpenApiV3(g, v),
            _ => null,
        };
        var isDiscoveryPath = s is ["api"] or ["api", "v1"] or ["apis"] or ["apis", _] or ["apis", _, _] or ["openapi", ..];
        if (!isDiscoveryPath)
        {
            return false;
        }
        if (doc is null)
        {
            throw new ApiError(404, "NotFound", "the server could not find the requested resource");
        }
        await HttpIo.WriteJsonAsync(context, 200, doc);
        return true;
    }

    /// <summary>Parses /api/v1/... and /apis/G/V/... into a resource request; null when it names nothing served.</summary>
    private static RequestInfo? Parse(string[] s, string method, HttpContext context)
    {
        string group, version;
        int i;
        if (s is ["api", "v1", ..])
        {
            (group, version, i) = ("", "v1", 2);
        }
        else if (s is ["apis", _, _, ..])
        {
            (group, version, i) = (s[1], s[2], 3);
        }
        else
        {
            return null;
        }
        var rest = s[i..];
        string? ns = null;
        if (rest.Length >= 3 && rest[0] == "namespaces")
        {
            ns = rest[1];
            rest = rest[2..];
        }
        if (rest.Length is 0 or > 3)
        {
            return null;
        }
        var resource = ResourceCatalog.Find(group, version, rest[0]);
        if (resource is null || (ns is not null && !resource.Namespaced))
        {
            return null;
        }
        var name = rest.Length > 1 ? rest[1] : null;
        var sub = rest.Length > 2 ? rest[2] : null;
        if (sub is not null && !resource.Subresources.Contains(sub))
        {
            return null;
        }
        if (resource.Namespaced && ns is null && name is not null)
        {
            return null;
        }
        var watch = context.Request.Query["watch"].ToString() is "true" or "1";
        var verb = (method, name) switch
        {
            ("GET", null) => watch ? "watch" : "list",
            ("GET", _) => "get",
            ("POST", null) => "create",
            ("POST", _) when sub is not null => "create",
            ("PUT", not null) => "update",
            ("PATCH", not null) => "patch",
            ("DELETE", not null) => "delete",
            ("DELETE", null) => "deletecollection",
            _ => throw new ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"),
        };
        if (resource.Namespaced && ns is null && verb is not ("list" or "watch"))
        {
            return null;
        }
        return new RequestInfo(verb, resource, ns, name, sub);
    }
}
