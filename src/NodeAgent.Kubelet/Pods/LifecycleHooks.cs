using k8s.Models;
using NodeAgent.Kubelet.Prober;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// kubelet's lifecycle handler runner for postStart and preStop: <c>exec</c> (exit code 0), <c>httpGet</c> (from
/// the pod's network namespace, as a probe: 2xx/3xx) and <c>sleep</c> (the given seconds), each within a limit the
/// caller sets (preStop: the grace period). A handler that fails gives its reason, which kubelet logs but keeps out
/// of the event (it may hold secrets).
/// </summary>
public sealed class LifecycleHooks(ProbeRunner runner, TimeProvider time)
{
    /// <summary>Runs the handler; null on success, else why it failed.</summary>
    public async Task<string?> RunAsync(ProbeTarget target, V1LifecycleHandler handler, TimeSpan limit, CancellationToken cancellationToken)
    {
        limit = GracePeriods.Saturate(limit);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        try
        {
            if (handler.Exec is { } exec)
            {
                var r = await runner.ExecAsync(target, exec, limit, deadline.Token);
                return r.Result == ProbeResult.Success ? null : $"exec hook failed: {r.Output}";
            }
            if (handler.HttpGet is { } http)
            {
                var r = await runner.HttpGetAsync(target, http, deadline.Token);
                return r.Result is ProbeResult.Success or ProbeResult.Warning ? null : $"HTTP lifecycle hook failed: {r.Output}";
            }
            if (handler.Sleep is { } sleep)
            {
                await Task.Delay(GracePeriods.FromSeconds(sleep.Seconds), time, deadline.Token);
                return null;
            }
            return handler.TcpSocket is not null ? "tcpSocket is not supported by lifecycle hooks" : "lifecycle handler has no action";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A sleep that reaches the limit has done what it was for; anything else ran out of time.
            return handler.Sleep is not null ? null : $"did not complete within {limit.TotalSeconds:0.#}s";
        }
    }
}
