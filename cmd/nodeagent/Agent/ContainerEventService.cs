using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeAgent.Runtime;
using NodeAgent.Runtime.Cri;

namespace NodeAgent.Cli.Agent;

/// <summary>Consumes the runtime's lifecycle events (pushed from pidfds, never polled) and reports them.</summary>
internal sealed partial class ContainerEventService(LinuxRuntimeService runtime, ILogger<ContainerEventService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var running = runtime.ListContainers().Count(c => c.State == ContainerState.Running);
        LogAdopted(running);
        try
        {
            await foreach (var e in runtime.Events.ReadAllAsync(stoppingToken))
            {
                var status = runtime.ContainerStatus(e.ContainerId);
                if (e.Type == ContainerEventType.Exited && status is not null)
                {
                    LogExited(status.Name, e.ContainerId[..12], status.ExitCode, status.Reason ?? "");
                }
                else if (status is not null)
                {
                    LogStarted(status.Name, e.ContainerId[..12]);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down; containers keep running.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "re-adopted {Count} running container(s)")]
    private partial void LogAdopted(int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "container {Name} ({Id}) exited with code {Code} {Reason}")]
    private partial void LogExited(string name, string id, int code, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "container {Name} ({Id}) started")]
    private partial void LogStarted(string name, string id);
}
