using System.Collections.Immutable;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Kubelet.Agent;

/// <summary>
/// Runs the agent's loops (pod config, dispatcher, runtime events, each pod source) and remembers any that stops
/// while the agent is not shutting down, by throwing or by returning: kubelet's sync loop health check. The other
/// loops keep running (the pods keep theirs), and <c>/healthz</c> fails naming the stopped loop, so a supervisor
/// (systemd's watchdog, a monitoring probe) sees it.
/// </summary>
public sealed partial class LoopSupervisor(ILogger<LoopSupervisor> logger, TimeProvider time) : ILoopHealth
{
    private ImmutableList<LoopFailure> _failures = [];

    public IReadOnlyList<LoopFailure> Failures => _failures;

    /// <summary>Runs one loop until <paramref name="stoppingToken"/> is cancelled; never throws.</summary>
    public async Task RunAsync(string name, Func<CancellationToken, Task> loop, CancellationToken stoppingToken)
    {
        try
        {
            await loop(stoppingToken);
            if (!stoppingToken.IsCancellationRequested)
            {
                Fail(name, "returned while the agent was running");
                LogLoopReturned(name);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (Exception e)
        {
            // A bug, not input: say so loudly; the rest of the agent keeps its pods running.
            Fail(name, $"{e.GetType().Name}: {e.Message}");
            LogLoopFailed(name, e);
        }
    }

    private void Fail(string name, string reason) =>
        ImmutableInterlocked.Update(ref _failures, (list, f) => list.Add(f), new LoopFailure(name, reason, time.GetUtcNow()));

    [LoggerMessage(Level = LogLevel.Error, Message = "{Loop} loop failed; /healthz reports it until the agent restarts")]
    private partial void LogLoopFailed(string loop, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Loop} loop stopped unexpectedly; /healthz reports it until the agent restarts")]
    private partial void LogLoopReturned(string loop);
}
