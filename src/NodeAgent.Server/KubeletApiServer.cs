using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Agent;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Kubelet.Reporting;
using NodeAgent.Server.Auth;
using NodeAgent.Server.Logs;
using NodeAgent.Server.Tls;

namespace NodeAgent.Server;

/// <summary>What the authenticated kubelet API is made of.</summary>
public sealed record KubeletApiServerOptions
{
    public required IPAddress Address { get; init; }

    /// <summary><c>--port</c> (10250); 0 picks a free one (tests).</summary>
    public required int Port { get; init; }

    /// <summary>The Node the requests are authorized against (<c>nodes/NAME/…</c>).</summary>
    public required string NodeName { get; init; }

    public required ServingCertificate Certificate { get; init; }

    public required KubeletAuthenticator Authenticator { get; init; }

    public required KubeletAuthorizer Authorizer { get; init; }

    public required IPodLister Pods { get; init; }

    public ILoopHealth? Health { get; init; }

    /// <summary>The documents served besides the built-in routes (<c>/metrics</c>, <c>/stats/summary</c>…).</summary>
    public IReadOnlyList<IHttpExposition> Expositions { get; init; } = [];

    /// <summary><c>/containerLogs</c>; none without a runtime to read from.</summary>
    public ContainerLogsEndpoint? Logs { get; init; }
}

/// <summary>
/// kubelet's authenticated HTTPS API (<c>--port</c> 10250 on <c>--address</c>) on Kestrel's core (Native AOT
/// compatible): every request is authenticated (<see cref="KubeletAuthenticator"/>; 401 <c>Unauthorized</c>) and
/// authorized as <see cref="NodeAccess.For"/> maps it (<see cref="KubeletAuthorizer"/>; 403
/// <c>Forbidden (user=U, verb=V, resource=nodes, subresource=S)</c>, 500 <c>Authorization error (…)</c> when the
/// review cannot be made), as kubelet's auth filter writes them; then <c>/healthz</c>, <c>/pods</c>,
/// <c>/containerLogs/{namespace}/{pod}/{container}</c> and each injected <see cref="IHttpExposition"/> at its path.
/// The serving certificate is taken per connection from <see cref="ServingCertificate.Current"/>, so a reloaded one
/// serves new connections. Client certificates are asked for, never required, and verified per request.
/// </summary>
public sealed partial class KubeletApiServer : IAsyncDisposable
{
    private readonly KestrelCoreHost _host;
    private readonly ILogger _logger;
    private readonly KubeletApiServerOptions _options;

    public KubeletApiServer(KubeletApiServerOptions options, ILoggerFactory loggerFactory)
    {
        _options = options;
        _logger = loggerFactory.CreateLogger<KubeletApiServer>();
        _host = new KestrelCoreHost(options.Address, options.Port, loggerFactory, LogListening, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificateSelector = (_, _) => options.Certificate.Current,
            ClientCertificateMode = ClientCertificateMode.AllowCertificate,
            // Verified per request against the client CA (KubeletAuthenticator), so a foreign certificate is a 401.
            ClientCertificateValidation = (_, _, _) => true,
        }));
        var app = _host.App;
        app.Use((ctx, next) => AuthenticateAndAuthorizeAsync(ctx, next));
        app.UseRouting();
        app.MapGet("/healthz", ctx => HealthzResponse.WriteAsync(ctx, options.Health));
        var podList = _host.Own(new PodListWriter(options.Pods, _logger));
        app.MapGet("/pods", podList.WriteAsync);
        if (options.Logs is { } logs)
        {
            app.MapGet("/containerLogs/{ns}/{pod}/{container}", (HttpContext ctx) =>
                logs.HandleAsync(ctx, (string)ctx.Request.RouteValues["ns"]!, (string)ctx.Request.RouteValues["pod"]!, (string)ctx.Request.RouteValues["container"]!));
        }

        foreach (var exposition in options.Expositions)
        {
            app.MapGet(exposition.Path, ctx => WriteExpositionAsync(ctx, exposition));
        }
    }

    /// <summary>The bound endpoints (useful when started on port 0 in tests).</summary>
    public IReadOnlyList<string> Urls => _host.Urls;

    public Task StartAsync(CancellationToken cancellationToken) => _host.StartAsync(cancellationToken);

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    private async Task AuthenticateAndAuthorizeAsync(HttpContext ctx, Func<Task> next)
    {
        var ct = ctx.RequestAborted;
        AuthenticationResult authn;
        try
        {
            authn = await _options.Authenticator.AuthenticateAsync(ctx.Connection.ClientCertificate, ctx.Request.Headers.Authorization.ToString(), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            authn = AuthenticationResult.Fail($"{e.GetType().Name}: {e.Message}");
        }

        if (authn.User is not { } user)
        {
            LogUnauthorized(ctx.Request.Method, ctx.Request.Path.Value ?? "/", authn.Error ?? "unknown");
            await ContainerLogsEndpoint.WriteErrorAsync(ctx, StatusCodes.Status401Unauthorized, "Unauthorized");
            return;
        }

        // kubelet tries each access in order (a fine-grained subresource, then proxy); any allowed one admits the
        // request, and the message of a denial names the last one tried.
        var accesses = NodeAccess.For(ctx.Request.Method, ctx.Request.Path.Value ?? "/", _options.NodeName);
        NodeAccess? denied = null;
        foreach (var access in accesses)
        {
            bool allowed;
            try
            {
                allowed = await _options.Authorizer.AuthorizeAsync(user, access, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                LogAuthorizationError(user.Name, access.Verb, access.Subresource, $"{e.GetType().Name}: {e.Message}");
                await ContainerLogsEndpoint.WriteErrorAsync(ctx, StatusCodes.Status500InternalServerError,
                    $"Authorization error (user={user.Name}, verb={access.Verb}, resource=nodes, subresource={access.Subresource})");
                return;
            }

            if (allowed)
            {
                denied = null;
                break;
            }

            denied = access;
        }

        if (denied is not null)
        {
            LogForbidden(user.Name, denied.Verb, denied.Subresource);
            await ContainerLogsEndpoint.WriteErrorAsync(ctx, StatusCodes.Status403Forbidden,
                $"Forbidden (user={user.Name}, verb={denied.Verb}, resource=nodes, subresource={denied.Subresource})");
            return;
        }

        await next();
    }

    private async Task WriteExpositionAsync(HttpContext ctx, IHttpExposition exposition)
    {
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, values) in ctx.Request.Query)
        {
            query[key] = values.ToString();
        }

        ctx.Response.ContentType = exposition.ContentType;
        try
        {
            await exposition.WriteAsync(ctx.Response.Body, query, ctx.RequestAborted);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "kubelet API listening on {Urls} (HTTPS; /healthz, /pods, /containerLogs and the metrics and stats documents)")]
    private partial void LogListening(string urls);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Unauthorized {Method} {Path}: {Why}")]
    private partial void LogUnauthorized(string method, string path, string why);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Forbidden user={User} verb={Verb} resource=nodes subresource={Subresource}")]
    private partial void LogForbidden(string user, string verb, string subresource);

    [LoggerMessage(Level = LogLevel.Error, Message = "Authorization error user={User} verb={Verb} resource=nodes subresource={Subresource}: {Error}")]
    private partial void LogAuthorizationError(string user, string verb, string subresource, string error);
}
