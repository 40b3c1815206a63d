using System.Diagnostics;
using System.Text.Json;
using NodeAgent.ContainerSpec;

namespace NodeAgent.Runtime.Supervision;

/// <summary>Starts a container's shim and reads its one-line reply: the container PID or why it did not start.</summary>
public sealed class ShimLauncher(string shimPath)
{
    public async Task<ShimReply> LaunchAsync(string bundle, CancellationToken cancellationToken)
    {
        if (!File.Exists(shimPath))
        {
            throw new FileNotFoundException($"container shim not found at {shimPath} (publish it with hack/publish-shim.sh or set NODEAGENT_SHIM)");
        }

        var psi = new ProcessStartInfo(shimPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
        };
        psi.ArgumentList.Add("run");
        psi.ArgumentList.Add(bundle);
        using var process = Process.Start(psi) ?? throw new IOException($"could not start {shimPath}");
        process.StandardInput.Close();
        var line = await process.StandardOutput.ReadLineAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(line))
        {
            await process.WaitForExitAsync(cancellationToken);
            var log = Path.Combine(bundle, BundleFiles.ShimLog);
            var detail = File.Exists(log) ? File.ReadAllText(log).Trim() : string.Empty;
            return new ShimReply { Error = $"shim exited with code {process.ExitCode} without reporting: {detail}" };
        }

        return JsonSerializer.Deserialize(line, SpecJsonContext.Default.ShimReply)
            ?? new ShimReply { Error = "shim sent an empty reply" };
    }
}
