using System.Net;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Agent;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Server;

/// <summary>
/// kubelet's read-only port (<c>--read-only-port</c>, 10255 by default): unauthenticated <c>GET /healthz</c> and
/// <c>GET /pods</c> (a <c>v1.PodList</c> of the node's pods with live statuses, streamed by <see cref="PodListWriter"/>).
/// Kestrel with only the core services, so it stays small and Native AOT compatible. <c>/healthz</c> answers 500
/// naming every agent loop that stopped (from <see cref="ILoopHealth"/>), with the reason withheld as kubelet does.
/// </summary>
public sealed partial class ReadOnlyServer : IAsyncDisposable
{
    private readonly KestrelCoreHost _host;
    private readonly ILogger _logger;

    /// <param name="maxConcurrentPodLists">How many <c>/pods</c> responses are written at once; others wait.</param>
    public ReadOnlyServer(IPAddress address, int port, IPodLister pods, ILoggerFactory loggerFactory, ILoopHealth? health = null, int maxConcurrentPodLists = 4)
    {
        _logger = loggerFactory.CreateLogger<ReadOnlyServer>();
        _host = new KestrelCoreHost(address, port, loggerFactory, LogListening);
        var app = _host.App;
        app.UseRouting();
        app.MapGet("/healthz", ctx => HealthzResponse.WriteAsync(ctx, health));
        var podList = _host.Own(new PodListWriter(pods, _logger, maxConcurrentPodLists));
        app.MapGet("/pods", podList.WriteAsync);
    }

    /// <summary>The bound endpoints (useful when started on port 0 in tests).</summary>
    public IReadOnlyList<string> Urls => _host.Urls;

    /// <summary>Binds and starts serving; throws with the address when the port cannot be bound.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => _host.StartAsync(cancellationToken);

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    [LoggerMessage(Level = LogLevel.Information, Message = "read-only API listening on {Urls} (/healthz, /pods)")]
    private partial void LogListening(string urls);
}
