using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Agent;

namespace NodeAgent.Server;

/// <summary>
/// kubelet's healthz port (<c>--healthz-port</c> 10248 on <c>--healthz-bind-address</c> 127.0.0.1): plain HTTP,
/// no authentication, only <c>GET /healthz</c> (<see cref="HealthzResponse"/>: unhealthy when a core loop stopped).
/// Kestrel's core only, as the other servers.
/// </summary>
public sealed partial class HealthzServer : IAsyncDisposable
{
    private readonly KestrelCoreHost _host;
    private readonly ILogger _logger;

    public HealthzServer(IPAddress address, int port, ILoopHealth health, ILoggerFactory loggerFactory)
    {
        _logger = loggerFactory.CreateLogger<HealthzServer>();
        _host = new KestrelCoreHost(address, port, loggerFactory, LogListening);
        _host.App.UseRouting();
        _host.App.MapGet("/healthz", ctx => HealthzResponse.WriteAsync(ctx, health));
    }

    public IReadOnlyList<string> Urls => _host.Urls;

    public Task StartAsync(CancellationToken cancellationToken) => _host.StartAsync(cancellationToken);

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    [LoggerMessage(Level = LogLevel.Information, Message = "healthz listening on {Urls}")]
    private partial void LogListening(string urls);
}
