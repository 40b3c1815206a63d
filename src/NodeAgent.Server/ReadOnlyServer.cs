using System.Net;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Server;

/// <summary>
/// kubelet's read-only port (<c>--read-only-port</c>, 10255 by default): unauthenticated <c>GET /healthz</c> and
/// <c>GET /pods</c> (a <c>v1.PodList</c> of the node's pods with live statuses). Kestrel with only the core
/// services, so it stays small and Native AOT compatible.
/// </summary>
public sealed partial class ReadOnlyServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ILogger _logger;

    public ReadOnlyServer(IPAddress address, int port, IPodLister pods, ILoggerFactory loggerFactory)
    {
        _logger = loggerFactory.CreateLogger<ReadOnlyServer>();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o =>
        {
            o.Listen(address, port);
            o.AddServerHeader = false;
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(loggerFactory);
        _app = builder.Build();
        _app.UseRouting();
        _app.MapGet("/healthz", static ctx =>
        {
            ctx.Response.ContentType = "text/plain; charset=utf-8";
            return ctx.Response.WriteAsync("ok");
        });
        RequestDelegate podList = ctx => WriteJsonAsync(ctx, new V1PodList { ApiVersion = "v1", Kind = "PodList", Metadata = new V1ListMeta(), Items = pods.ListPods().ToList() });
        _app.MapGet("/pods", podList);
    }

    /// <summary>The bound endpoints (useful when started on port 0 in tests).</summary>
    public IReadOnlyList<string> Urls => _app.Urls.ToList();

    /// <summary>Binds and starts serving; throws with the address when the port cannot be bound.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _app.StartAsync(cancellationToken);
        LogListening(string.Join(", ", _app.Urls));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static Task WriteJsonAsync(HttpContext ctx, V1PodList list)
    {
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(KubernetesJson.Serialize(list));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "read-only API listening on {Urls} (/healthz, /pods)")]
    private partial void LogListening(string urls);
}
