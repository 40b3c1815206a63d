using NodeAgent.Cri;
using NodeAgent.Tests.Agent;
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
        using var manifests = new TempDir("nodeagent-manifests");
        await using var agent = await AgentProcess.StartAsync(_rt, manifests.Path);
        await agent.WaitForLogAsync(l => l.Contains("2 container(s) running at start", StringComparison.Ordinal));

        // An archive renamed into <root>/images is imported without being asked.
        var drop = Path.Combine(_rt.Root, "images");
        Directory.CreateDirectory(drop);
        File.Copy(TestImages.BusyboxDocker, Path.Combine(drop, ".partial"));
        File.Move(Path.Combine(drop, ".partial"), Path.Combine(drop, "busybox.tar"));
        await agent.WaitForLogAsync(l => l.Contains("localhost/busybox-docker:latest", StringComparison.Ordinal));
        Assert.NotNull(_rt.Images.Resolve("localhost/busybox-docker:latest"));

        // A container another process started ends: the agent hears it from the kernel.
        NodeAgent.Linux.ProcessControl.Kill(_rt.Runtime.ContainerStatus(brief)!.Pid, 9);
        await agent.WaitForLogAsync(l => l.Contains($"container brief ({brief[..12]}) exited with code 137", StringComparison.Ordinal));

        // ctr containers are not pods: the agent's orphan cleanup leaves them alone, and SIGTERM leaves them running.
        Assert.Equal(0, await agent.StopAsync());
        Assert.Equal(ContainerState.Running, _rt.Runtime.ContainerStatus(keep)!.State);
    }

    public void Dispose() => _rt.Dispose();
}
