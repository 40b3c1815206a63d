using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Agent;
using NodeAgent.Server;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// Hosts the kubelet (<see cref="KubeletHost"/>, composed in src/) and its read-only API in the daemon: starts the
/// server on <c>--address</c>:<c>--read-only-port</c> with the host's pods and the loops' health, then runs the host.
/// </summary>
internal sealed partial class KubeletService(KubeletHost host, LoopSupervisor health, IPAddress address, int port, ILoggerFactory loggers) : BackgroundService
{
    private readonly ILogger _logger = loggers.CreateLogger<KubeletService>();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var server = port > 0 ? new ReadOnlyServer(address, port, host.Pods, loggers, health) : null;
        if (server is not null)
        {
            try
            {
                await server.StartAsync(stoppingToken);
            }
            catch (IOException e)
            {
                // Another kubelet or agent holds the port: the pods still run, only the read-only API is missing.
                LogServerFailed(address.ToString(), port, e.Message);
            }
        }

        await host.RunAsync(stoppingToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "read-only API not started: cannot listen on {Address}:{Port}: {Error}")]
    private partial void LogServerFailed(string address, int port, string error);
}
