using System.Diagnostics;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime.Exec;

/// <summary><c>nodeagent ctr exec</c> and <c>ctr attach</c> as a user runs them, against <c>crictl exec</c>'s behaviour.</summary>
public sealed class CtrExecTests : IDisposable
{
    private readonly RuntimeFixture _rt = new();

    private async Task<string> RunDetachedAsync(string name, params string[] command) =>
        (await CliProcess.RunAsync(_rt, ["ctr", "run", "-d", "--name", name, "localhost/busybox:latest", .. command])).Trim();

    private static async Task<(int Code, string Stdout, string Stderr)> FinishAsync(Process cli)
    {
        var stdout = cli.StandardOutput.ReadToEndAsync();
        var stderr = cli.StandardError.ReadToEndAsync();
        await cli.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        return (cli.ExitCode, await stdout, await stderr);
    }

    [PrivilegedFact]
    public async Task ExecExitsWithTheCommandsExitCodeAndKeepsItsOptions()
    {
        await RunDetachedAsync("box", "sleep", "300");
        // Options after the container belong to the command (as with crictl exec): -c is sh's.
        using var cli = CliProcess.Start(_rt, "ctr", "exec", "box", "sh", "-c", "echo out; echo err >&2; exit 4");
        cli.StandardInput.Close();
        Assert.Equal((4, "out\n", "err\n"), await FinishAsync(cli));
    }

    [PrivilegedFact]
    public async Task OutputIntoAFileTheShellKeepsWritingToIsKept()
    {
        // `{ nodeagent ctr exec …; echo …; } > file`: the CLI and the shell share one file offset, so the CLI must
        // advance it (write(2)); output written at a position of its own was overwritten by the shell's next line.
        await RunDetachedAsync("files", "sleep", "300");
        var cli = Path.Combine(AppContext.BaseDirectory, "nodeagent");
        var file = Path.Combine(_rt.Root, "exec-output.txt");
        var line = $"{{ echo before; {cli} --root-dir {_rt.Root} --pod-log-dir {_rt.Logs} --cgroup-root {_rt.CgroupPrefix} " +
            $"ctr exec files sh -c 'echo out; echo err >&2'; echo after; }} > {file} 2>&1";
        using var sh = Process.Start(new ProcessStartInfo("sh", ["-c", line]) { RedirectStandardInput = true })!;
        sh.StandardInput.Close();
        await sh.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(0, sh.ExitCode);
        Assert.Equal(["after", "before", "err", "out"], (await File.ReadAllLinesAsync(file)).Order(StringComparer.Ordinal));
        Assert.Equal("before", (await File.ReadAllLinesAsync(file))[0]);
        Assert.Equal("after", (await File.ReadAllLinesAsync(file))[^1]);
    }

    [PrivilegedFact]
    public async Task InteractiveExecForwardsStdinUntilEndOfFile()
    {
        await RunDetachedAsync("cat", "sleep", "300");
        using var cli = CliProcess.Start(_rt, "ctr", "exec", "-i", "cat", "sh", "-c", "wc -l");
        await cli.StandardInput.WriteAsync("a\nb\nc\n");
        cli.StandardInput.Close();
        var (code, stdout, _) = await FinishAsync(cli);
        Assert.Equal((0, "3"), (code, stdout.Trim()));

        // Without -i the command's stdin is empty, whatever ours holds.
        using var closed = CliProcess.Start(_rt, "ctr", "exec", "cat", "sh", "-c", "wc -c");
        await closed.StandardInput.WriteAsync("ignored\n");
        closed.StandardInput.Close();
        Assert.Equal("0", (await FinishAsync(closed)).Stdout.Trim());
    }

    [PrivilegedFact]
    public async Task TtyExecRunsOnATerminalOfTheLocalTerminalsSize()
    {
        await RunDetachedAsync("term", "sleep", "300");
        // script(1) gives the CLI a terminal of its own; stty sets its size before the CLI starts, and the CLI
        // forwards it to the exec's terminal. script -e exits with the CLI's exit code.
        var cli = Path.Combine(AppContext.BaseDirectory, "nodeagent");
        var line = $"stty cols 123 rows 45; exec {cli} --root-dir {_rt.Root} --pod-log-dir {_rt.Logs} --cgroup-root {_rt.CgroupPrefix} " +
            "ctr exec -i -t term sh -c 'stty size; [ -t 0 ] && [ -t 1 ] && echo on-a-tty; tty; exit 6'";
        var psi = new ProcessStartInfo("script", ["-q", "-e", "-c", line, "/dev/null"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["NODEAGENT_SHIM"] = RepoPaths.ShimPath;
        using var script = Process.Start(psi)!;
        var (code, stdout, _) = await FinishAsync(script);
        Assert.Equal(6, code);
        Assert.Contains("45 123\r\n", stdout);
        Assert.Contains("on-a-tty\r\n", stdout);
        Assert.Contains("/dev/pts/0\r\n", stdout);
    }

    [PrivilegedFact]
    public async Task ExecIntoAStoppedContainerFailsClearly()
    {
        var id = await RunDetachedAsync("gone", "true");
        await _rt.Runtime.WaitContainerAsync(id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        using var cli = CliProcess.Start(_rt, "ctr", "exec", "gone", "true");
        cli.StandardInput.Close();
        var (code, _, stderr) = await FinishAsync(cli);
        Assert.Equal(125, code);
        Assert.Equal($"nodeagent: exec in container gone ({id[..12]}): container is not running\n", stderr);
    }

    [PrivilegedFact]
    public async Task AttachPrintsOutputFromNowUntilTheContainerExits()
    {
        // The container prints "early", then "tick" until a file the test creates appears, then "late" and exits 3.
        var id = await RunDetachedAsync("talker", "sh", "-c",
            "echo early; while [ ! -e /tmp/go ]; do echo tick; sleep 0.2; done; echo late; echo bye >&2; exit 3");
        await WaitUntilAsync(() => File.ReadAllText(_rt.Runtime.ContainerStatus(id)!.LogPath).Contains("early", StringComparison.Ordinal));
        using var attach = CliProcess.Start(_rt, "ctr", "attach", "talker");
        attach.StandardInput.Close();
        var stderr = attach.StandardError.ReadToEndAsync();
        Assert.Equal("tick", await attach.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60))); // attached
        await _rt.Runtime.ExecSyncAsync(id, ["touch", "/tmp/go"], TimeSpan.Zero, CancellationToken.None);
        var rest = await attach.StandardOutput.ReadToEndAsync();
        await attach.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(3, attach.ExitCode);
        var lines = rest.TrimEnd('\n').Split('\n');
        Assert.Equal("late", lines[^1]); // and "early", printed before the attach, never shows
        Assert.All(lines[..^1], l => Assert.Equal("tick", l));
        Assert.Equal("bye\n", await stderr);
    }

    [PrivilegedFact]
    public async Task AttachToAStoppedContainerFailsClearly()
    {
        var id = await RunDetachedAsync("quiet", "true");
        await _rt.Runtime.WaitContainerAsync(id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        using var attach = CliProcess.Start(_rt, "ctr", "attach", "quiet");
        attach.StandardInput.Close();
        Assert.Equal((125, "", $"nodeagent: container quiet ({id[..12]}) is not running\n"), await FinishAsync(attach));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 30 s");
            await Task.Delay(50);
        }
    }

    public void Dispose() => _rt.Dispose();
}
