using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
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
    private readonly WebApplication _app;
    private readonly ILogger _logger;

    public HealthzServer(IPAddress address, int port, ILoopHealth health, ILoggerFactory loggerFactory)
    {
        _logger = loggerFactory.CreateLogger<HealthzServer>();
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
        _app.MapGet("/healthz", ctx => HealthzResponse.WriteAsync(ctx, health));
    }

    public IReadOnlyList<string> Urls => _app.Urls.ToList();

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

    [LoggerMessage(Level = LogLevel.Information, Message = "healthz listening on {Urls}")]
    private partial void LogListening(string urls);
}
