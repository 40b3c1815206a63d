using NodeAgent.ContainerSpec;
using NodeAgent.Linux;

namespace NodeAgent.Runtime.Supervision;

/// <summary>
/// Starts a container's shim with posix_spawn and reads its one-line reply: the container PID or why it did not
/// start. The shim detaches into its own session; whoever launched it reaps it when it ends (<see cref="ExitTracker"/>).
/// </summary>
public sealed class ShimLauncher(string shimPath)
{
    public async Task<ShimReply> LaunchAsync(string bundle, CancellationToken cancellationToken)
    {
        if (!File.Exists(shimPath))
        {
            throw new FileNotFoundException($"container shim not found at {shimPath} (publish it with hack/publish-shim.sh or set NODEAGENT_SHIM)");
        }

        var (read, write) = FileDescriptors.CreatePipe();
        int pid;
        using (write)
        {
            var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>().Select(e => $"{e.Key}={e.Value}").ToList();
            var fd = (int)write.DangerousGetHandle();
            pid = ProcessSpawner.Spawn(shimPath, [shimPath, "run", bundle], env, fd, fd);
        }

        string? line;
        await using (var stream = new FileStream(read, FileAccess.Read, 1))
        using (var reader = new StreamReader(stream))
        {
            line = await reader.ReadLineAsync(cancellationToken);
        }

        if (string.IsNullOrWhiteSpace(line) || !line.TrimStart().StartsWith('{'))
        {
            var code = await Task.Run(() => ProcessSpawner.WaitForExit(pid), cancellationToken);
            var log = Path.Combine(bundle, BundleFiles.ShimLog);
            var detail = File.Exists(log) ? File.ReadAllText(log).Trim() : line ?? string.Empty;
            return new ShimReply { Error = $"shim exited with code {code} without reporting: {detail}" };
        }

        var reply = BundleJson.ReadShimReply(System.Text.Encoding.UTF8.GetBytes(line), $"the reply of the shim of {bundle}");
        if (reply.Error is not null)
        {
            // The shim ends right after reporting a failed start: reap it.
            await Task.Run(() => ProcessSpawner.WaitForExit(pid), cancellationToken);
        }

        return reply;
    }
}
