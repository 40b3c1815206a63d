using NodeAgent.ContainerSpec;
using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Shim;

/// <summary>The shim records exit codes, start errors and CRI logs.</summary>
public sealed class ShimLifecycleTests : IDisposable
{
    private readonly BusyboxRootfs _rootfs = new();
    private readonly ShimRunner _shim = new();

    [PrivilegedFact]
    public async Task ExitCodeIsRecorded()
    {
        var (reply, exit) = await _shim.RunAsync(ShimRunner.Spec(_rootfs.Path, "sh", "-c", "exit 42"));
        Assert.True(reply.Pid > 0);
        Assert.Equal(42, exit.ExitCode);
        Assert.Null(exit.StartError);
    }

    [PrivilegedFact]
    public async Task DeathBySignalIs128PlusSignal()
    {
        // PID 1 of a namespace ignores signals it has no handler for, except SIGKILL from outside.
        var (_, exit) = await _shim.RunAsync(ShimRunner.Spec(_rootfs.Path, "sleep", "60"), pid => NodeAgent.Linux.ProcessControl.Kill(pid, 9));
        Assert.Equal(137, exit.ExitCode);
    }

    [PrivilegedFact]
    public async Task TheMonitorOutlivesTerminationSignalsOnOneThread()
    {
        // containerd's shim survives the signals a terminal or an init system sends its former process group; the
        // container must not inherit the monitor's ignored signals. One thread plus the runtime's finalizer: no
        // thread pool, no signal thread (one monitor runs per container).
        var threads = 0;
        var (_, exit) = await _shim.RunAsync(ShimRunner.Spec(_rootfs.Path, "sleep", "60"), pid =>
        {
            var shimPid = BundleJson.ReadShimState(File.ReadAllBytes(Path.Combine(_shim.Bundle, BundleFiles.State)), "state.json").ShimPid;
            foreach (var signal in new[] { 15, 2, 1, 3 })
            {
                Assert.True(ProcessControl.Kill(shimPid, signal));
            }

            threads = Directory.GetDirectories($"/proc/{shimPid}/task").Length;
            Assert.Contains("SigIgn:\t0000000000000000", File.ReadAllText($"/proc/{pid}/status"));
            ProcessControl.Kill(pid, 9);
        });
        Assert.Equal(137, exit.ExitCode); // recorded by the monitor, which was still there
        Assert.InRange(threads, 1, 2);
    }

    [PrivilegedFact]
    public async Task StdoutAndStderrGoToTheCriLog()
    {
        await _shim.RunAsync(ShimRunner.Spec(_rootfs.Path, "sh", "-c", "echo out1; echo err1 >&2; printf 'no-newline'"));
        Assert.Equal(["out1", "no-newline"], _shim.Stdout());
        Assert.Equal(["err1"], _shim.Stderr());
        var first = File.ReadLines(_shim.LogPath).First();
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) [FP] ", first);
    }

    [PrivilegedFact]
    public async Task CommandNotFoundIsAStartError()
    {
        var (reply, exit) = await _shim.RunAsync(ShimRunner.Spec(_rootfs.Path, "no-such-program"));
        Assert.Contains("executable file not found in $PATH", reply.Error);
        Assert.Contains("no-such-program", exit.StartError);
        Assert.Equal(128, exit.ExitCode);
    }

    [PrivilegedFact]
    public async Task MissingAbsolutePathIsAStartError()
    {
        var (reply, _) = await _shim.RunAsync(ShimRunner.Spec(_rootfs.Path, "/opt/app/run"));
        Assert.Contains("/opt/app/run", reply.Error);
        Assert.Contains("no such file", reply.Error);
    }

    [PrivilegedFact]
    public async Task NonExecutableFileIsAStartError()
    {
        File.WriteAllText(Path.Combine(_rootfs.Path, "notexec"), "data");
        var (reply, _) = await _shim.RunAsync(ShimRunner.Spec(_rootfs.Path, "/notexec"));
        Assert.Contains("exec /notexec", reply.Error);
        Assert.Contains("EACCES", reply.Error);
    }

    [PrivilegedFact]
    public async Task ABadMountIsAStartErrorNamingTheMount()
    {
        var spec = ShimRunner.Spec(_rootfs.Path, "true");
        spec.Mounts.Add(new ContainerSpec.MountSpec { Destination = "/data", Type = "bind", Source = "/nonexistent/source" });
        var (reply, _) = await _shim.RunAsync(spec);
        Assert.Contains("/data", reply.Error);
        Assert.Contains("/nonexistent/source", reply.Error);
    }

    public void Dispose()
    {
        _shim.Dispose();
        _rootfs.Dispose();
    }
}
