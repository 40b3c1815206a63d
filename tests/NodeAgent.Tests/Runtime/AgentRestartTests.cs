using System.Diagnostics;
using NodeAgent.Linux;
using NodeAgent.Cri;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime;

/// <summary>
/// Supervision outlives the agent: a nodeagent process killed with SIGKILL leaves its containers running, and the
/// next runtime on the same root re-adopts them, starts no duplicate and reports exits that happened meanwhile.
/// </summary>
public sealed class AgentRestartTests : IDisposable
{
    private readonly RuntimeFixture _rt = new();

    [PrivilegedFact]
    public async Task ContainersSurviveSigkillOfTheirLauncherAndAreReadopted()
    {
        using var cli = CliProcess.Start(_rt, "ctr", "run", "--name", "survivor", "localhost/busybox:latest", "sh", "-c", "echo up; exec sleep 300");
        cli.StandardInput.Close();

        // The attached CLI relays the container's output: "up" means the container runs.
        Assert.Equal("up", await cli.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)));
        var id = _rt.Runtime.ListContainers().Single(c => c.Name == "survivor").Id;
        cli.Kill();
        await cli.WaitForExitAsync();

        _rt.Restart();
        var status = _rt.Runtime.ContainerStatus(id)!;
        Assert.Equal(ContainerState.Running, status.State);
        Assert.Single(_rt.Runtime.ListContainers(), c => c.Name == "survivor");
        Assert.True(ProcessControl.Kill(status.Pid, 0), "the container process died with its launcher");

        // The re-adopted container's exit reaches the new runtime.
        var exited = _rt.Runtime.WaitContainerAsync(id, CancellationToken.None);
        ProcessControl.Kill(status.Pid, 9);
        await exited.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(137, _rt.Runtime.ContainerStatus(id)!.ExitCode);
    }

    [PrivilegedFact]
    public async Task ExitWhileNoRuntimeRunsIsReportedAfterwards()
    {
        var output = await CliProcess.RunAsync(_rt, "ctr", "run", "-d", "--name", "brief", "localhost/busybox:latest", "sleep", "300");
        var id = output.Trim();
        _rt.Runtime.Dispose();

        // Nobody watches now: end the container and wait for its shim ourselves.
        var state = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(_rt.Root, "containers", id, "state.json"))).RootElement;
        using var shim = PidFd.TryOpen(state.GetProperty("shimPid").GetInt32())!;
        using var watcher = new ExitWatcher();
        var shimGone = watcher.WaitAsync(shim);
        ProcessControl.Kill(state.GetProperty("pid").GetInt32(), 9);
        await shimGone.WaitAsync(TimeSpan.FromSeconds(30));

        _rt.Restart();
        var status = _rt.Runtime.ContainerStatus(id)!;
        Assert.Equal(ContainerState.Exited, status.State);
        Assert.Equal(137, status.ExitCode);
    }

    public void Dispose() => _rt.Dispose();
}
