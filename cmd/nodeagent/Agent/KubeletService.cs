using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Agent;
using NodeAgent.Server;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// Hosts the kubelet (<see cref="KubeletHost"/>, composed in src/) and its read-only API in the daemon. The server
/// on <c>--address</c>:<c>--read-only-port</c> (the host's pods, the loops' health) is listening before start-up
/// completes, so systemd's READY=1 means the API answers; then the host's loops run until shutdown.
/// </summary>
internal sealed partial class KubeletService(KubeletHost host, LoopSupervisor health, IPAddress address, int port, ILoggerFactory loggers) : BackgroundService
{
    private readonly ILogger _logger = loggers.CreateLogger<KubeletService>();
    private ReadOnlyServer? _server;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (port > 0)
        {
            _server = new ReadOnlyServer(address, port, host.Pods, loggers, new LoopHealthSet(health, host.PodLoops));
            try
            {
                await _server.StartAsync(cancellationToken);
            }
            catch (IOException e)
            {
                // Another kubelet or agent holds the port: the pods still run, only the read-only API is missing.
                LogServerFailed(address.ToString(), port, e.Message);
            }
        }

        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => host.RunAsync(stoppingToken);

    [LoggerMessage(Level = LogLevel.Error, Message = "read-only API not started: cannot listen on {Address}:{Port}: {Error}")]
    private partial void LogServerFailed(string address, int port, string error);
}
