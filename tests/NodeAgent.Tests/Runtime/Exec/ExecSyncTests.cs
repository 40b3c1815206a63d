using System.Text;
using NodeAgent.Cri;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime.Exec;

/// <summary>
/// ExecSync into real containers, as kubelet's exec probes and <c>kubectl exec</c> rely on it (containerd's
/// ExecSync behaviour: the command's exit code, its captured output capped per stream, a timeout that kills it),
/// once through one-shot helpers (the CLI's way) and once through resident exec servers (the agent's way).
/// </summary>
public abstract class ExecSyncTests(bool residentExecServers) : IDisposable
{
    private static readonly TimeSpan NoTimeout = TimeSpan.Zero;
    private readonly RuntimeFixture _rt = new(residentExecServers: residentExecServers);

    private async Task<string> RunningAsync(string pod, ContainerConfig? config = null)
    {
        var (_, id) = await _rt.StartAsync(pod, config ?? RuntimeFixture.Container("main", "sleep", "300"));
        return id;
    }

    private Task<ExecSyncResult> ExecAsync(string id, params string[] command) =>
        _rt.Runtime.ExecSyncAsync(id, command, NoTimeout, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

    private static string Out(ExecSyncResult r) => Encoding.UTF8.GetString(r.Stdout);

    [PrivilegedFact]
    public async Task ExitCodesPassThrough()
    {
        var id = await RunningAsync("codes");
        Assert.Equal(0, (await ExecAsync(id, "true")).ExitCode);
        Assert.Equal(1, (await ExecAsync(id, "false")).ExitCode);
        Assert.Equal(42, (await ExecAsync(id, "sh", "-c", "exit 42")).ExitCode);
        // A command killed by a signal reports 128+N, as runc and containerd do.
        Assert.Equal(128 + 15, (await ExecAsync(id, "sh", "-c", "kill -TERM $$")).ExitCode);
    }

    [PrivilegedFact]
    public async Task ProcessesStartWithNoSignalIgnoredAndDieOfSigpipe()
    {
        // As under runc: the init and every exec start with default dispositions; nothing of the .NET helper's own
        // (it ignores SIGPIPE) survives its execve. A writer to a closed pipe dies of SIGPIPE (141), not of EPIPE.
        var id = await RunningAsync("signals");
        var r = await ExecAsync(id, "sh", "-c", "grep SigIgn /proc/1/status /proc/self/status | sed 's/.*://'");
        Assert.Equal(["\t0000000000000000", "\t0000000000000000"], Out(r).Split('\n')[..2]);
        var pipe = await ExecAsync(id, "sh", "-c", "(yes; echo \"yes ended with $?\" >&2) | head -c 1 >/dev/null");
        Assert.Equal("yes ended with 141\n", Encoding.UTF8.GetString(pipe.Stderr));
    }

    [PrivilegedFact]
    public async Task StdoutAndStderrAreCapturedApart()
    {
        var id = await RunningAsync("output");
        var r = await ExecAsync(id, "sh", "-c", "echo out; echo err >&2; echo more");
        Assert.Equal("out\nmore\n", Out(r));
        Assert.Equal("err\n", Encoding.UTF8.GetString(r.Stderr));
        Assert.False(r.StdoutTruncated || r.StderrTruncated || r.TimedOut);
    }

    [PrivilegedFact]
    public async Task OutputIsCappedAtSixteenMebibytesPerStream()
    {
        var id = await RunningAsync("cap");
        var r = await ExecAsync(id, "sh", "-c", "head -c 17825792 /dev/zero; echo small >&2");
        Assert.Equal(0, r.ExitCode); // the command was never blocked on a full pipe
        Assert.Equal(ExecSyncResult.MaxOutputBytes, r.Stdout.Length);
        Assert.True(r.StdoutTruncated);
        Assert.Equal("small\n", Encoding.UTF8.GetString(r.Stderr));
        Assert.False(r.StderrTruncated);
    }

    [PrivilegedFact]
    public async Task ExecRunsInTheInitsNamespacesAndCgroups()
    {
        var id = await RunningAsync("ns");
        var initPid = _rt.Runtime.ContainerStatus(id)!.Pid;
        string[] kinds = ["pid", "net", "mnt", "ipc", "uts", "cgroup"];
        var r = await ExecAsync(id, "sh", "-c", "for ns in " + string.Join(' ', kinds) + "; do readlink /proc/self/ns/$ns; done; cat /proc/self/cgroup; echo pid $$");
        var lines = Out(r).TrimEnd('\n').Split('\n');
        var expectedNs = kinds.Select(k => new FileInfo($"/proc/{initPid}/ns/{k}").LinkTarget!).ToArray();
        Assert.Equal(expectedNs, lines[..kinds.Length]);

        // Same cgroup in every hierarchy as the init (v1 controllers and the unified one).
        var expectedCgroups = File.ReadAllLines($"/proc/{initPid}/cgroup").Order().ToArray();
        Assert.Equal(expectedCgroups, lines[kinds.Length..^1].Order().ToArray());
        Assert.Contains(expectedCgroups, l => l.Contains(_rt.CgroupPrefix, StringComparison.Ordinal));

        // A PID of the container's PID namespace (the init is 1), not of the host's.
        var pid = int.Parse(lines[^1]["pid ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(pid, 2, 1000);
        Assert.Equal("sleep 300", Out(await ExecAsync(id, "sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline")).Trim());
    }

    [PrivilegedFact]
    public async Task ExecSeesTheContainersFilesystemCwdAndEnvironment()
    {
        var config = RuntimeFixture.Container("main", "sh", "-c", "echo marker > /tmp/made-by-init; exec sleep 300") with
        {
            WorkingDir = "/tmp",
            Env = [new("GREETING", "hello")],
        };
        var id = await RunningAsync("fs", config);
        await WaitUntilAsync(async () => (await ExecAsync(id, "cat", "/tmp/made-by-init")).ExitCode == 0);
        var r = await ExecAsync(id, "sh", "-c", "pwd; cat made-by-init; echo $GREETING; hostname");
        Assert.Equal("/tmp\nmarker\nhello\nfs\n", Out(r));

        // The exec's own variables override the container's.
        await using var session = await _rt.Runtime.ExecAsync(
            new ExecRequest { ContainerId = id, Command = ["sh", "-c", "echo $GREETING"], Env = ["GREETING=bye"] }, CancellationToken.None);
        Assert.Equal("bye\n", await new StreamReader(session.Stdout).ReadToEndAsync());
        Assert.Equal(0, await session.Exited);
    }

    [PrivilegedFact]
    public async Task ExecRunsAsTheContainersUserAndCannotReadShadow()
    {
        var config = RuntimeFixture.Container("main", "sleep", "300") with
        {
            Security = new ContainerSecurity { RunAsUser = 1000, RunAsGroup = 3000, SupplementalGroups = [4000] },
        };
        var id = await RunningAsync("user", config);
        var shadow = Path.Combine(_rt.Root, "containers", id, "rootfs", "etc", "shadow");
        await File.WriteAllTextAsync(shadow, "root:*:19000:0:99999:7:::\n");
        File.SetUnixFileMode(shadow, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead); // 0640 root:root

        var id1 = await ExecAsync(id, "sh", "-c", "id -u; id -g; id -G");
        Assert.Equal("1000\n3000\n3000 4000\n", Out(id1));
        var cat = await ExecAsync(id, "cat", "/etc/shadow");
        Assert.NotEqual(0, cat.ExitCode);
        Assert.Empty(cat.Stdout);
        Assert.Contains("Permission denied", Encoding.UTF8.GetString(cat.Stderr));
    }

    [PrivilegedTheory]
    [InlineData(null)]
    [InlineData(1000L)]
    public async Task CapabilitiesAndNoNewPrivsMatchTheInits(long? user)
    {
        var config = RuntimeFixture.Container("main", "sleep", "300") with
        {
            Security = new ContainerSecurity { RunAsUser = user, AddCapabilities = ["NET_ADMIN"], DropCapabilities = ["CHOWN"], NoNewPrivileges = true },
        };
        var id = await RunningAsync("caps", config);
        var initPid = _rt.Runtime.ContainerStatus(id)!.Pid;
        var r = await ExecAsync(id, "grep", "-E", "^(Cap|NoNewPrivs)", "/proc/self/status");
        var expected = File.ReadAllLines($"/proc/{initPid}/status").Where(l => l.StartsWith("Cap", StringComparison.Ordinal) || l.StartsWith("NoNewPrivs", StringComparison.Ordinal));
        Assert.Equal(expected, Out(r).TrimEnd('\n').Split('\n'));
        Assert.Contains("NoNewPrivs:\t1", Out(r));
        if (user is null)
        {
            // Root in the container: NET_ADMIN (bit 12) added, CHOWN (bit 0) dropped, in the effective set.
            var eff = Convert.ToUInt64(Out(r).Split('\n').Single(l => l.StartsWith("CapEff", StringComparison.Ordinal)).Split('\t')[1], 16);
            Assert.Equal((1UL << 12, 0UL), (eff & (1UL << 12), eff & 1UL));
        }
    }

    [PrivilegedFact]
    public async Task TimeoutKillsTheCommandAndItsChildren()
    {
        var id = await RunningAsync("timeout");
        var r = await _rt.Runtime.ExecSyncAsync(id, ["sh", "-c", "sleep 301 & echo started; sleep 302"], TimeSpan.FromSeconds(1), CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(r.TimedOut);
        Assert.Equal(137, r.ExitCode);
        Assert.Equal("started\n", Out(r));

        // The background child was in the exec's process group: SIGKILL reached it too.
        await WaitUntilAsync(async () => Out(await ExecAsync(id, "sh", "-c", "ps -o args | grep -c '^sleep 30[12]'")).Trim() == "0");
    }

    [PrivilegedFact]
    public async Task ExecIntoAStoppedOrUnknownContainerIsAClearError()
    {
        var (_, done) = await _rt.StartAsync("done", RuntimeFixture.Container("main", "true"));
        await _rt.WaitAsync(done);
        var stopped = await Assert.ThrowsAsync<RuntimeException>(() => ExecAsync(done, "true"));
        Assert.Equal(RuntimeErrorKind.FailedPrecondition, stopped.Kind);
        Assert.Equal($"exec in container main ({done[..12]}): container is not running", stopped.Message);

        var unknown = await Assert.ThrowsAsync<RuntimeException>(() => ExecAsync("0123456789abcdef", "true"));
        Assert.Equal(RuntimeErrorKind.NotFound, unknown.Kind);
        Assert.Equal("container 0123456789abcdef not found", unknown.Message);
    }

    [PrivilegedFact]
    public async Task AMissingExecutableIsAStartError()
    {
        var id = await RunningAsync("missing");
        var error = await Assert.ThrowsAsync<RuntimeException>(() => ExecAsync(id, "no-such-command"));
        Assert.Equal(RuntimeErrorKind.StartError, error.Kind);
        Assert.Contains("exec: \"no-such-command\": executable file not found in $PATH", error.Message);
        Assert.StartsWith($"exec in container main ({id[..12]}): ", error.Message);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 30 s");
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        _rt.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class ExecSyncOneShotTests() : ExecSyncTests(residentExecServers: false);

public sealed class ExecSyncServedTests() : ExecSyncTests(residentExecServers: true);
