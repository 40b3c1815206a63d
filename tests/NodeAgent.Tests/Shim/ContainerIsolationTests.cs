using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Shim;

/// <summary>
/// What a process sees from inside a container started by the real shim on the real kernel: its own PID, mount,
/// UTS, IPC and network namespaces, Docker's default capabilities, masked and read-only kernel paths.
/// </summary>
public sealed class ContainerIsolationTests : IDisposable
{
    private readonly BusyboxRootfs _rootfs = new();
    private readonly ShimRunner _shim = new();

    private async Task<IReadOnlyList<string>> Run(string script, Action<ContainerSpec.ContainerSpec>? tweak = null)
    {
        var spec = ShimRunner.Spec(_rootfs.Path, "sh", "-c", script);
        tweak?.Invoke(spec);
        var (reply, exit) = await _shim.RunAsync(spec);
        Assert.Null(reply.Error);
        Assert.True(exit.ExitCode == 0, $"exit {exit.ExitCode}; stderr: {string.Join('\n', _shim.Stderr())}");
        return _shim.Stdout();
    }

    [PrivilegedFact]
    public async Task TheContainerProcessIsPid1AndSeesNoHostProcesses()
    {
        var lines = await Run("echo $$; ls /proc | grep -c '^[0-9]*$'");
        Assert.Equal("1", lines[0]);
        Assert.True(int.Parse(lines[1]) <= 3, $"saw {lines[1]} processes");
    }

    [PrivilegedFact]
    public async Task HostnameIsTheContainers()
    {
        var lines = await Run("hostname");
        Assert.Equal(["testbox"], lines);
    }

    [PrivilegedFact]
    public async Task HostMountsAreInvisible()
    {
        var lines = await Run("cat /proc/self/mountinfo");
        var mountPoints = lines.Select(l => l.Split(' ')[4]).ToList();
        Assert.DoesNotContain(mountPoints, m => m.StartsWith("/work", StringComparison.Ordinal) || m.StartsWith("/tmp/", StringComparison.Ordinal) || m == "/boot");
        Assert.Contains("/proc", mountPoints);
        Assert.Contains("/dev/pts", mountPoints);
        Assert.Equal("/", mountPoints[0]);
    }

    [PrivilegedFact]
    public async Task ProcSysIsReadOnlyAndKernelPathsAreMasked()
    {
        var lines = await Run("grep -E ' /proc/sys | /sys ' /proc/mounts | cut -d' ' -f2,4 | cut -d, -f1; " +
                              "if echo 1 > /proc/sys/kernel/domainname 2>/dev/null; then echo writable; else echo refused; fi; " +
                              "wc -c < /proc/keys");
        Assert.Contains("/proc/sys ro", lines);
        Assert.Contains("/sys ro", lines);
        Assert.Contains("refused", lines);
        Assert.Equal("0", lines[^1].Trim());
    }

    [PrivilegedFact]
    public async Task RootGetsDockersDefaultCapabilitySet()
    {
        var lines = await Run("grep -E '^Cap(Eff|Bnd)' /proc/self/status");
        Assert.Contains("CapEff:\t00000000a80425fb", lines);
        Assert.Contains("CapBnd:\t00000000a80425fb", lines);
    }

    [PrivilegedFact]
    public async Task NonRootUserHasNoEffectiveCapabilitiesAndNoNewPrivs()
    {
        var lines = await Run("id -u; id -g; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status", spec =>
        {
            spec.Process.Uid = 65534;
            spec.Process.Gid = 65534;
            spec.Process.NoNewPrivileges = true;
        });
        Assert.Equal("65534", lines[0]);
        Assert.Equal("65534", lines[1]);
        Assert.Contains("CapEff:\t0000000000000000", lines);
        Assert.Contains("NoNewPrivs:\t1", lines);
    }

    [PrivilegedFact]
    public async Task OnlyLoopbackInANewNetworkNamespaceAndItIsUp()
    {
        var lines = await Run("ls /sys/class/net; cat /sys/class/net/lo/operstate; ping -c1 -W1 127.0.0.1 >/dev/null && echo ping-ok");
        Assert.Equal("lo", lines[0]);
        Assert.Contains("ping-ok", lines);
    }

    [PrivilegedFact]
    public async Task DevHasTheStandardNodes()
    {
        var lines = await Run("ls /dev | sort | tr '\\n' ' '; echo; echo hi > /dev/null && echo null-ok; stat -c %a /dev/null");
        foreach (var node in new[] { "null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "fd", "ptmx" })
        {
            Assert.Contains(node, lines[0].Split(' '));
        }

        Assert.Contains("null-ok", lines);
        Assert.Equal("666", lines[^1]);
    }

    [PrivilegedFact]
    public async Task ReadOnlyRootFilesystemRefusesWritesButVolumesStayWritable()
    {
        var lines = await Run("touch /file 2>/dev/null && echo root-writable || echo root-ro; touch /dev/shm/x && echo shm-ok",
            spec => spec.ReadonlyRootfs = true);
        Assert.Equal(["root-ro", "shm-ok"], lines);
    }

    public void Dispose()
    {
        _shim.Dispose();
        _rootfs.Dispose();
    }
}
