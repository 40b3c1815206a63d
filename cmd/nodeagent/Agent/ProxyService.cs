using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeAgent.Proxy;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// Hosts the service proxy (<see cref="ProxyHost"/>, src/NodeAgent.Proxy) in the agent. A proxy that stops with an
/// error (an API it cannot reach at start, a port taken) is logged and started again after a backoff (1 s doubling
/// to 1 min), and the kubelet side runs on regardless: pods keep their containers whatever the proxy does.
/// </summary>
internal sealed partial class ProxyService(ProxyConfig config, ILoggerFactory loggers, TimeProvider time) : BackgroundService
{
    private readonly ILogger _logger = loggers.CreateLogger<ProxyService>();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await new ProxyHost(config, loggers).RunAsync(stoppingToken);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Stopped with the agent: the rules stay, as kube-proxy leaves them.
                return;
            }
            catch (Exception e)
            {
                failures++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(60_000, 1000 * Math.Pow(2, Math.Min(failures - 1, 10))));
                LogFailed(e.GetType().Name, e.Message, delay.TotalSeconds);
                try
                {
                    await Task.Delay(delay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "service proxy stopped: {Kind}: {Error}; starting it again in {Seconds} s")]
    private partial void LogFailed(string kind, string error, double seconds);
}
