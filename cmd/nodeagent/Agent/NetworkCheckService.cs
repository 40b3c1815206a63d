using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeAgent.Runtime;
using NodeAgent.Cri;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// The pod network's resync: at start (after re-adoption) and then periodically, every ready sandbox's network is
/// checked (CNI CHECK, or the built-in network's own check of its veth, address and route). A fault is logged with
/// the pod and the cause; a sandbox's first passing check is logged once, later ones say nothing.
/// </summary>
internal sealed partial class NetworkCheckService(LinuxRuntimeService runtime, TimeSpan period, TimeProvider time, ILogger<NetworkCheckService> logger) : BackgroundService
{
    private readonly HashSet<string> _checked = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(period, time);
        do
        {
            foreach (var sandbox in runtime.ListPodSandboxes().Where(s => s.State == SandboxState.Ready && !s.Config.HostNetwork))
            {
                try
                {
                    await runtime.CheckPodSandboxNetworkAsync(sandbox.Id, stoppingToken);
                    if (_checked.Add(sandbox.Id))
                    {
                        LogFirstCheck(sandbox.Config.Namespace, sandbox.Config.Name, sandbox.Id[..12]);
                    }
                }
                catch (RuntimeException e) when (e.Kind == RuntimeErrorKind.NotFound)
                {
                    // Removed since it was listed.
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _checked.Remove(sandbox.Id);
                    LogCheckFailed(sandbox.Config.Namespace, sandbox.Config.Name, sandbox.Id[..12], e.Message);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).AsTask().ContinueWith(t => t.IsCompletedSuccessfully && t.Result, TaskScheduler.Default));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Namespace}/{Name}: network of sandbox {Sandbox} checked")]
    private partial void LogFirstCheck(string @namespace, string name, string sandbox);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Namespace}/{Name}: network check of sandbox {Sandbox} failed: {Error}")]
    private partial void LogCheckFailed(string @namespace, string name, string sandbox, string error);
}
