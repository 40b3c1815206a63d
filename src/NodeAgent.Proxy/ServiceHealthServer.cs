using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Proxy;

/// <summary>
/// The health check node ports of <c>externalTrafficPolicy: Local</c> services (kube-proxy's service health server):
/// one listener per <c>healthCheckNodePort</c>, answering any path with kube-proxy's JSON body and
/// <c>X-Load-Balancing-Endpoint-Weight</c>: 200 while the service has ready endpoints on this node and the proxy is
/// healthy, 503 otherwise, so a load balancer sends traffic only to nodes that serve it locally. Listeners follow
/// the services at every sync; one that cannot bind is logged and retried at the next sync.
/// </summary>
public sealed partial class ServiceHealthServer(IPAddress bindAddress, ProxyHealth health, ILoggerFactory loggers) : IAsyncDisposable
{
    private readonly ILogger _logger = loggers.CreateLogger<ServiceHealthServer>();
    private readonly Dictionary<int, WebApplication> _listeners = [];
    private readonly Lock _lock = new();
    private Dictionary<int, (ServiceName Service, int LocalEndpoints)> _ports = [];

    /// <summary>Ports listened on now.</summary>
    public IReadOnlyCollection<int> Ports => _listeners.Keys;

    /// <summary>Brings the listeners and their answers in line with <paramref name="state"/>.</summary>
    public async Task SyncAsync(ProxyState state, CancellationToken cancellationToken)
    {
        var ports = new Dictionary<int, (ServiceName, int)>();
        foreach (var (name, svc) in state.Services)
        {
            if (svc.HealthCheckNodePort == 0)
            {
                continue;
            }
            var local = state.EndpointsOf(name).Count(e => e.IsLocal && e.Ready);
            ports[svc.HealthCheckNodePort] = ports.TryGetValue(svc.HealthCheckNodePort, out var known) ? (known.Item1, known.Item2 + local) : (name.Service, local);
        }
        lock (_lock)
        {
            _ports = ports;
        }
        foreach (var port in _listeners.Keys.Where(p => !ports.ContainsKey(p)).ToList())
        {
            await StopAsync(port);
        }
        foreach (var port in ports.Keys.Where(p => !_listeners.ContainsKey(p)))
        {
            var app = Build(port);
            try
            {
                await app.StartAsync(cancellationToken);
                _listeners[port] = app;
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                await app.DisposeAsync();
                Log.BindFailed(_logger, port, ports[port].Item1.ToString(), ex);
            }
        }
    }

    private WebApplication Build(int port)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o =>
        {
            o.Listen(bindAddress, port);
            o.AddServerHeader = false;
        });
        builder.Services.AddSingleton(loggers);
        var app = builder.Build();
        app.Run(ctx => AnswerAsync(ctx, port));
        return app;
    }

    private Task AnswerAsync(HttpContext ctx, int port)
    {
        (ServiceName Service, int LocalEndpoints) entry;
        lock (_lock)
        {
            if (!_ports.TryGetValue(port, out entry))
            {
                ctx.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return ctx.Response.WriteAsync("unknown service");
            }
        }
        var proxyHealthy = health.Answer(livez: true).Status == 200;
        ctx.Response.ContentType = "application/json";
        ctx.Response.Headers["X-Content-Type-Options"] = "nosniff";
        ctx.Response.Headers["X-Load-Balancing-Endpoint-Weight"] = entry.LocalEndpoints.ToString(CultureInfo.InvariantCulture);
        ctx.Response.StatusCode = entry.LocalEndpoints != 0 && proxyHealthy ? 200 : 503;
        return ctx.Response.WriteAsync(Body(entry.Service, entry.LocalEndpoints, proxyHealthy));
    }

    /// <summary>kube-proxy's body, tab-indented as its template prints it. Names are DNS labels (checked when
    /// parsed), so they need no escaping.</summary>
    internal static string Body(ServiceName service, int localEndpoints, bool proxyHealthy) =>
        $"{{\n\t\"service\": {{\n\t\t\"namespace\": \"{service.Namespace}\",\n\t\t\"name\": \"{service.Name}\"\n\t}},\n" +
        $"\t\"localEndpoints\": {localEndpoints.ToString(CultureInfo.InvariantCulture)},\n\t\"serviceProxyHealthy\": {(proxyHealthy ? "true" : "false")}\n}}";

    private async Task StopAsync(int port)
    {
        var app = _listeners[port];
        _listeners.Remove(port);
        await app.StopAsync();
        await app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var port in _listeners.Keys.ToList())
        {
            await StopAsync(port);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Cannot listen on health check node port {Port} of service {Service}; retrying at the next sync")]
        public static partial void BindFailed(ILogger logger, int port, string service, Exception exception);
    }
}
