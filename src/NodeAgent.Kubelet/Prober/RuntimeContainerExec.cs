using System.Text;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Prober;

/// <summary>
/// Exec probes and hooks through the runtime's <see cref="IRuntimeService.ExecSyncAsync"/>, as kubelet's exec prober
/// does through CRI's ExecSync: the combined output (at most 10 KiB kept, kubelet's cap on probe output), and a
/// timeout is a failure ("command … timed out").
/// </summary>
public sealed class RuntimeContainerExec(IRuntimeService runtime) : IContainerExec
{
    private const int MaxOutput = 10 * 1024;

    public async Task<(int ExitCode, string Output)> ExecAsync(string containerId, IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var result = await runtime.ExecSyncAsync(containerId, command, timeout, cancellationToken);
        if (result.TimedOut)
        {
            return (result.ExitCode == 0 ? 137 : result.ExitCode, $"command \"{string.Join(' ', command)}\" timed out");
        }
        var both = new byte[Math.Min(MaxOutput, result.Stdout.Length + result.Stderr.Length)];
        var fromOut = Math.Min(both.Length, result.Stdout.Length);
        result.Stdout.AsSpan(0, fromOut).CopyTo(both);
        result.Stderr.AsSpan(0, both.Length - fromOut).CopyTo(both.AsSpan(fromOut));
        return (result.ExitCode, Encoding.UTF8.GetString(both));
    }
}
