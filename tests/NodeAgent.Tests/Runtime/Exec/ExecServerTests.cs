using System.Text;
using NodeAgent.Cri;
using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime.Exec;

/// <summary>
/// The resident exec server the agent keeps per container that is exec'd into: entered exactly as the container's
/// init (what a one-shot helper does per exec), reused by later execs, replaced when it dies, ended with its
/// container, and never used where it could behave differently (a tty, a Localhost seccomp profile).
/// </summary>
public sealed class ExecServerTests : IDisposable
{
    private readonly RuntimeFixture _rt = new(residentExecServers: true);

    private Task<ExecSyncResult> ExecAsync(string id, params string[] command) =>
        _rt.Runtime.ExecSyncAsync(id, command, TimeSpan.Zero, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

    private static string Out(ExecSyncResult r) => Encoding.UTF8.GetString(r.Stdout);

    private static string[] StatusLines(int pid, params string[] prefixes) =>
        File.ReadAllLines($"/proc/{pid}/status").Where(l => prefixes.Any(p => l.StartsWith(p, StringComparison.Ordinal))).ToArray();

    [PrivilegedFact]
    public async Task OneServerPerContainerEnteredExactlyAsItsInit()
    {
        var config = RuntimeFixture.Container("main", "sleep", "300") with
        {
            Security = new ContainerSecurity
            {
                RunAsUser = 1000, RunAsGroup = 3000, SupplementalGroups = [4000], NoNewPrivileges = true,
                Seccomp = SeccompProfile.RuntimeDefault,
            },
        };
        var (_, id) = await _rt.StartAsync("entered", config);
        var init = _rt.Runtime.ContainerStatus(id)!.Pid;
        Assert.Null(_rt.Runtime.ExecServerPid(id)); // started by the first exec, not before

        Assert.Equal("1000 3000 3000 4000\n", Out(await ExecAsync(id, "sh", "-c", "echo $(id -u) $(id -g) $(id -G)")));
        var server = _rt.Runtime.ExecServerPid(id) ?? throw new InvalidOperationException("no exec server after an exec");
        Assert.Equal(0, (await ExecAsync(id, "true")).ExitCode);
        Assert.Equal(server, _rt.Runtime.ExecServerPid(id)); // reused

        // Its namespaces (and the PID namespace its children get), cgroups, credentials, capabilities, no_new_privs
        // and seccomp mode are the init's.
        foreach (var ns in new[] { "mnt", "net", "ipc", "uts", "cgroup", "pid_for_children" })
        {
            var expected = ns == "pid_for_children" ? "pid" : ns;
            Assert.Equal(new FileInfo($"/proc/{init}/ns/{expected}").LinkTarget, new FileInfo($"/proc/{server}/ns/{ns}").LinkTarget);
        }

        Assert.Equal(File.ReadAllLines($"/proc/{init}/cgroup").Order(), File.ReadAllLines($"/proc/{server}/cgroup").Order());
        string[] fields = ["Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:"];
        Assert.Equal(StatusLines(init, fields), StatusLines(server, fields));
        Assert.Contains("Seccomp:\t2", StatusLines(server, "Seccomp:"));

        // Non-dumpable: its /proc entries belong to root, so the container's user cannot ptrace it or read its memory.
        Assert.Equal("0", await OwnerAsync($"/proc/{server}/environ"));
    }

    [PrivilegedFact]
    public async Task AKilledServerIsReplacedAtTheNextExec()
    {
        var (_, id) = await _rt.StartAsync("killed", RuntimeFixture.Container("main", "sleep", "300"));
        Assert.Equal(0, (await ExecAsync(id, "true")).ExitCode);
        var first = _rt.Runtime.ExecServerPid(id)!.Value;
        using (var pidFd = PidFd.TryOpen(first)!)
        {
            Assert.True(pidFd.Signal(9));
            Assert.True(PidFd.WaitForAllExited([pidFd], TimeSpan.FromSeconds(30)));
        }

        var r = await ExecAsync(id, "echo", "again");
        Assert.Equal((0, "again\n"), (r.ExitCode, Out(r)));
        Assert.NotEqual(first, _rt.Runtime.ExecServerPid(id));
    }

    [PrivilegedFact]
    public async Task ACommandWhoseServerDiesHasAnUnknownExitNamedAsSuch()
    {
        var (_, id) = await _rt.StartAsync("lost", RuntimeFixture.Container("main", "sleep", "300"));
        await using var session = await _rt.Runtime.ExecAsync(new ExecRequest { ContainerId = id, Command = ["sleep", "304"] }, CancellationToken.None);
        using (var server = PidFd.TryOpen(_rt.Runtime.ExecServerPid(id)!.Value)!)
        {
            server.Signal(9);
        }

        var error = await Assert.ThrowsAsync<RuntimeException>(() => session.Exited.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal($"exec in container main ({id[..12]}): the container's exec server ended before the command (the container stopped, or its exec server was killed); its exit code is unknown", error.Message);
    }

    [PrivilegedTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheServerEndsWithItsContainer(bool sharePid)
    {
        // Alone in its PID namespace the server dies with the init; in a pod's shared one (the pause process is
        // PID 1 there) it sees the init's pidfd turn readable and exits.
        var sandbox = await _rt.Runtime.RunPodSandboxAsync(_rt.Pod("ends", sharePid: sharePid), CancellationToken.None);
        var id = await _rt.Runtime.CreateContainerAsync(sandbox, RuntimeFixture.Container("main", "sleep", "300"), CancellationToken.None);
        await _rt.Runtime.StartContainerAsync(id, CancellationToken.None);
        Assert.Equal(0, (await ExecAsync(id, "true")).ExitCode);
        using var server = PidFd.TryOpen(_rt.Runtime.ExecServerPid(id)!.Value)!;

        await _rt.Runtime.StopContainerAsync(id, TimeSpan.Zero, CancellationToken.None);
        Assert.True(PidFd.WaitForAllExited([server], TimeSpan.FromSeconds(30)));
        await _rt.Runtime.RemoveContainerAsync(id, CancellationToken.None);
        Assert.Null(_rt.Runtime.ExecServerPid(id));
    }

    [PrivilegedFact]
    public async Task ATtyOrALocalhostSeccompProfileUsesOneShotHelpers()
    {
        var profiles = Path.Combine(_rt.Root, "seccomp", "profiles");
        Directory.CreateDirectory(profiles);
        File.WriteAllText(Path.Combine(profiles, "deny-mkdir.json"), """
            {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95}]}
            """);
        var config = RuntimeFixture.Container("main", "sleep", "300") with
        {
            Security = new ContainerSecurity { Seccomp = SeccompProfile.Localhost("profiles/deny-mkdir.json") },
        };
        var (_, local) = await _rt.StartAsync("local", config);
        var r = await ExecAsync(local, "sh", "-c", "mkdir /tmp/x; echo $?");
        Assert.Equal("1\n", Out(r));
        Assert.Contains("Operation not supported", Encoding.UTF8.GetString(r.Stderr));
        Assert.Null(_rt.Runtime.ExecServerPid(local));

        var (_, plain) = await _rt.StartAsync("tty", RuntimeFixture.Container("main", "sleep", "300"));
        await using (var session = await _rt.Runtime.ExecAsync(new ExecRequest { ContainerId = plain, Command = ["true"], Tty = true }, CancellationToken.None))
        {
            Assert.Equal(0, await session.Exited.WaitAsync(TimeSpan.FromSeconds(60)));
        }

        Assert.Null(_rt.Runtime.ExecServerPid(plain));
    }

    private static async Task<string> OwnerAsync(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u", path]) { RedirectStandardOutput = true })!;
        var owner = (await stat.StandardOutput.ReadToEndAsync()).Trim();
        await stat.WaitForExitAsync();
        return owner;
    }

    public void Dispose() => _rt.Dispose();
}
