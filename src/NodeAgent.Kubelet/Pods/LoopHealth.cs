using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// The registry of the kubelet's long-running loops (sources, pod config, dispatcher, each pod worker, orphan
/// cleanup, runtime events) and their health, for <c>/healthz</c>. A loop survives errors of single inputs and
/// reports them with <see cref="Survived"/>; a loop that ends anyway is <see cref="LoopState.Failed"/> with the
/// reason, and the node is unhealthy until it runs again. <see cref="SuperviseAsync"/> runs a loop that way and
/// restarts it after a backoff (1 s doubling to 30 s).
/// </summary>
public sealed partial class LoopHealth(TimeProvider time, ILogger<LoopHealth>? logger = null)
{
    public static readonly TimeSpan RestartInitial = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan RestartMax = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, LoopStatus> _loops = new(StringComparer.Ordinal);
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;

    public LoopHealth()
        : this(TimeProvider.System)
    {
    }

    /// <summary>Every registered loop, by name.</summary>
    public IReadOnlyList<LoopStatus> Loops => _loops.Values.OrderBy(l => l.Name, StringComparer.Ordinal).ToList();

    /// <summary>The loops that have failed (empty when healthy).</summary>
    public IReadOnlyList<LoopStatus> FailedLoops => Loops.Where(l => l.State == LoopState.Failed).ToList();

    /// <summary>True while no loop has failed.</summary>
    public bool IsHealthy => _loops.Values.All(l => l.State != LoopState.Failed);

    /// <summary>Number of registered loops (pod workers come and go with their pods).</summary>
    public int Count => _loops.Count;

    public LoopStatus? Get(string name) => _loops.TryGetValue(name, out var s) ? s : null;

    /// <summary>The loop is (again) running.</summary>
    public void Running(string name) =>
        _loops.AddOrUpdate(name, n => new LoopStatus(n, LoopState.Running, time.GetUtcNow(), null, 0),
            (_, old) => old.State == LoopState.Running ? old : old with { State = LoopState.Running, Since = time.GetUtcNow() });

    /// <summary>The loop carried on after an error of one input; it stays healthy, the error is kept.</summary>
    public void Survived(string name, string error) =>
        _loops.AddOrUpdate(name, n => new LoopStatus(n, LoopState.Running, time.GetUtcNow(), error, 0),
            (_, old) => old with { LastError = error });

    /// <summary>The loop ended on an error: the node is unhealthy until <see cref="Running"/> is called again.</summary>
    public void Failed(string name, string error) =>
        _loops.AddOrUpdate(name, n => new LoopStatus(n, LoopState.Failed, time.GetUtcNow(), error, 0),
            (_, old) => old with { State = LoopState.Failed, Since = time.GetUtcNow(), LastError = error });

    /// <summary>The loop ended as it should (a pod worker whose pod is gone): it is no longer tracked.</summary>
    public void Forget(string name) => _loops.TryRemove(name, out _);

    /// <summary>
    /// Runs <paramref name="loop"/> until <paramref name="cancellationToken"/> fires. When it throws (or returns
    /// early) it is marked failed with the error, logged, and restarted after a backoff.
    /// </summary>
    public async Task SuperviseAsync(string name, Func<CancellationToken, Task> loop, CancellationToken cancellationToken)
    {
        var delay = RestartInitial;
        while (!cancellationToken.IsCancellationRequested)
        {
            Running(name);
            string error;
            try
            {
                await loop(cancellationToken);
                if (cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                error = "the loop ended";
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                error = $"{e.GetType().Name}: {e.Message}";
                LogLoopCrashed(name, e.ToString());
            }

            Failed(name, error);
            LogLoopRestarting(name, error, delay.TotalSeconds);
            try
            {
                await Task.Delay(delay, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            _loops.AddOrUpdate(name, n => new LoopStatus(n, LoopState.Running, time.GetUtcNow(), error, 1),
                (_, old) => old with { Restarts = old.Restarts + 1 });
            delay = delay * 2 > RestartMax ? RestartMax : delay * 2;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Loop} loop failed: {Error}")]
    private partial void LogLoopCrashed(string loop, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Loop} loop stopped ({Error}); restarting it in {Seconds}s")]
    private partial void LogLoopRestarting(string loop, string error, double seconds);
}
