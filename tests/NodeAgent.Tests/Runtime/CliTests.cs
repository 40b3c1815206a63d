using NodeAgent.Tests.Support;
using NodeAgent.Cri;

namespace NodeAgent.Tests.Runtime;

/// <summary>The ctr and images verbs as a user runs them.</summary>
public sealed class CliTests : IDisposable
{
    private readonly RuntimeFixture _rt = new();

    [PrivilegedFact]
    public async Task AttachedRunReturnsTheContainersExitCodeAndOutput()
    {
        using var cli = CliProcess.Start(_rt, "ctr", "run", "--rm", "localhost/busybox:latest", "sh", "-c", "echo out; echo err >&2; exit 7");
        cli.StandardInput.Close();
        var stdout = cli.StandardOutput.ReadToEndAsync();
        var stderr = cli.StandardError.ReadToEndAsync();
        await cli.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(7, cli.ExitCode);
        Assert.Equal("out\n", await stdout);
        Assert.Equal("err\n", await stderr);
        Assert.Empty(_rt.Runtime.ListContainers());
    }

    [PrivilegedFact]
    public async Task ArgumentsReachTheContainerUnexpanded()
    {
        // As with docker, ctr and crictl: $$ is the shell's PID (1, the container's init), $(X) stays as written.
        var output = await CliProcess.RunAsync(_rt, "ctr", "run", "--rm", "localhost/busybox:latest", "sh", "-c", "echo $$ '$(HOME)'");
        Assert.Equal("1 $(HOME)\n", output);
    }

    [PrivilegedFact]
    public async Task DetachedLifecyclePsLogsStopRm()
    {
        var id = (await CliProcess.RunAsync(_rt, "ctr", "run", "-d", "--name", "web", "localhost/busybox:latest", "sh", "-c", "echo one; echo two; exec sleep 300")).Trim();
        Assert.Equal(64, id.Length);
        var ps = await CliProcess.RunAsync(_rt, "ctr", "ps");
        Assert.Contains(id[..12], ps);
        Assert.Contains("web", ps);
        Assert.Contains("Up ", ps);

        var status = _rt.Runtime.ContainerStatus(id)!;
        await _rt.Runtime.WaitContainerAsync(id, CancellationToken.None).WaitAsync(TimeSpan.FromMilliseconds(1)).ContinueWith(_ => { });
        var logs = await CliProcess.RunAsync(_rt, "ctr", "logs", "--tail", "1", "web");
        Assert.True(logs == "two\n" || logs == string.Empty || logs == "one\n", logs);

        await CliProcess.RunAsync(_rt, "ctr", "stop", "-t", "1", "web");
        var all = await CliProcess.RunAsync(_rt, "ctr", "ps", "-a");
        Assert.Contains("Exited (137)", all);
        var inspect = await CliProcess.RunAsync(_rt, "ctr", "inspect", "web");
        Assert.Contains("\"exitCode\": 137", inspect);
        await CliProcess.RunAsync(_rt, "ctr", "rm", "web");
        Assert.DoesNotContain("web", await CliProcess.RunAsync(_rt, "ctr", "ps", "-a"));
        Assert.Empty(_rt.Runtime.ListPodSandboxes());
        _ = status;
    }

    [PrivilegedFact]
    public async Task UnknownImageIsAClearError()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => CliProcess.RunAsync(_rt, "ctr", "run", "--rm", "localhost/nope:1", "true"));
        Assert.Contains("image \"localhost/nope:1\" not found", ex.Message);
        Assert.Contains("exited 125", ex.Message);
    }

    [PrivilegedFact]
    public async Task ImagesInUseCannotBeRemoved()
    {
        await CliProcess.RunAsync(_rt, "ctr", "run", "-d", "--name", "user", "localhost/busybox:latest", "sleep", "300");
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => CliProcess.RunAsync(_rt, "images", "rm", "localhost/busybox:latest"));
        Assert.Contains("is used by container(s) user", ex.Message);
        var ls = await CliProcess.RunAsync(_rt, "images", "ls");
        Assert.Contains("localhost/busybox", ls);
    }

    public void Dispose() => _rt.Dispose();
}
