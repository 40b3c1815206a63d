using NodeAgent.Runtime.Cri;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime;

/// <summary>The daemon: re-adopts containers, imports dropped archives, follows exits, leaves containers running on SIGTERM.</summary>
public sealed class AgentDaemonTests : IDisposable
{
    private readonly RuntimeFixture _rt = new();

    [PrivilegedFact]
    public async Task AgentImportsDroppedArchivesReportsExitsAndStopsCleanly()
    {
        var keep = (await CliProcess.RunAsync(_rt, "ctr", "run", "-d", "--name", "keep", "localhost/busybox:latest", "sleep", "300")).Trim();
        var brief = (await CliProcess.RunAsync(_rt, "ctr", "run", "-d", "--name", "brief", "localhost/busybox:latest", "sleep", "300")).Trim();
        using var agent = CliProcess.Start(_rt, "agent");
        agent.StandardInput.Close();
        var lines = new LineWaiter(agent.StandardOutput);
        await lines.WaitFor("re-adopted 2 running container(s)");

        // An archive renamed into <root>/images is imported without being asked.
        var drop = Path.Combine(_rt.Root, "images");
        Directory.CreateDirectory(drop);
        File.Copy(TestImages.BusyboxDocker, Path.Combine(drop, ".partial"));
        File.Move(Path.Combine(drop, ".partial"), Path.Combine(drop, "busybox.tar"));
        await lines.WaitFor("localhost/busybox-docker:latest");
        Assert.NotNull(_rt.Images.Resolve("localhost/busybox-docker:latest"));

        // A container another process started ends: the agent hears it from the kernel.
        NodeAgent.Linux.ProcessControl.Kill(_rt.Runtime.ContainerStatus(brief)!.Pid, 9);
        await lines.WaitFor($"container brief ({brief[..12]}) exited with code 137");

        NodeAgent.Linux.ProcessControl.Kill(agent.Id, 15);
        await agent.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, agent.ExitCode);
        Assert.Equal(ContainerState.Running, _rt.Runtime.ContainerStatus(keep)!.State);
    }

    public void Dispose() => _rt.Dispose();

    /// <summary>Reads a process's output line by line until an expected text shows up.</summary>
    private sealed class LineWaiter(StreamReader reader)
    {
        private readonly List<string> _seen = [];

        public async Task WaitFor(string text)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (true)
            {
                var line = await reader.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException($"agent output ended before \"{text}\":\n{string.Join('\n', _seen)}");
                _seen.Add(line);
                if (line.Contains(text, StringComparison.Ordinal))
                {
                    return;
                }
            }
        }
    }
}
