using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Proxy;

/// <summary>
/// The proxy's HTTP endpoints on Kestrel's core (small, Native AOT compatible): on the healthz address (kube-proxy:
/// 0.0.0.0:10256) <c>/healthz</c> and <c>/livez</c>; on the metrics address (127.0.0.1:10249) <c>/metrics</c>,
/// <c>/healthz</c> ("ok") and <c>/proxyMode</c>, as kube-proxy's metrics server serves them.
/// </summary>
public sealed partial class ProxyHealthServer : IAsyncDisposable
{
    private readonly List<WebApplication> _apps = [];
    private readonly ILogger _logger;

    public ProxyHealthServer(IPEndPoint? healthz, IPEndPoint? metrics, ProxyHealth health, string proxyMode,
        Func<HttpContext, Task>? writeMetrics, ILoggerFactory loggerFactory)
    {
        _logger = loggerFactory.CreateLogger<ProxyHealthServer>();
        if (healthz is not null)
        {
            var app = Build(healthz, loggerFactory);
            app.MapGet("/healthz", ctx => WriteHealthAsync(ctx, health, livez: false));
            app.MapGet("/livez", ctx => WriteHealthAsync(ctx, health, livez: true));
        }
        if (metrics is not null)
        {
            var app = Build(metrics, loggerFactory);
            app.MapGet("/healthz", ctx => PlainAsync(ctx, "ok"));
            app.MapGet("/proxyMode", ctx => PlainAsync(ctx, proxyMode));
            app.MapGet("/metrics", ctx => writeMetrics?.Invoke(ctx) ?? PlainAsync(ctx, ""));
        }
    }

    /// <summary>The bound URLs of the healthz server, then of the metrics server (useful with port 0 in tests).</summary>
    public IReadOnlyList<string> Urls => _apps.SelectMany(a => a.Urls).ToList();

    private WebApplication Build(IPEndPoint endpoint, ILoggerFactory loggerFactory)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o =>
        {
            o.Listen(endpoint);
            o.AddServerHeader = false;
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(loggerFactory);
        var app = builder.Build();
        app.UseRouting();
        _apps.Add(app);
        return app;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var app in _apps)
        {
            await app.StartAsync(cancellationToken);
        }
        Log.Listening(_logger, string.Join(", ", Urls));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
    private static Task WriteHealthAsync(HttpContext ctx, ProxyHealth health, bool livez)
    {
        var (status, body) = health.Answer(livez);
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        ctx.Response.Headers["X-Content-Type-Options"] = "nosniff";
        return ctx.Response.WriteAsync(body);
    }

    private static Task PlainAsync(HttpContext ctx, string body)
    {
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        ctx.Response.Headers["X-Content-Type-Options"] = "nosniff";
        return ctx.Response.WriteAsync(body);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "proxy health and metrics listening on {Urls}")]
        public static partial void Listening(ILogger logger, string urls);
    }
}
