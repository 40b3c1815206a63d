using System.Diagnostics;
using System.Globalization;
using NodeAgent.Cgroups;
using NodeAgent.Cri;
using NodeAgent.Images;
using NodeAgent.Linux;
using NodeAgent.Runtime;

// ExecSync cost: N ExecSync calls of `true` into one running busybox container, from the runtime in this process
// as the agent's exec probes call it (through the container's resident exec server), and as the CLI does (a
// one-shot helper per exec, from a second runtime instance on the same root), alternating with `nsenter -t PID -a true` into the same container's init
// (posix_spawn of nsenter, as a shell starts it), and a third peer that does the same work as ExecSync on the kernel
// side: a shell that joins the container's cgroups (every v1 hierarchy, as an exec must) and then execs the same
// nsenter. Prints p50/p95 of each and "ratio: R" (the agent's ExecSync p50 / nsenter p50).
//   ExecBench IMAGE_ARCHIVE SHIM [RUNS]
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: ExecBench IMAGE_ARCHIVE SHIM [RUNS]");
    return 2;
}

var runs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 50;
var work = Directory.CreateTempSubdirectory("nodeagent-exec-bench-").FullName;
var cgroupPrefix = "nodeagent-exec-bench-" + RandomIds.NewHex(4);
var images = new ImageStore(Path.Combine(work, "root"));
var cgroups = CgroupManagerFactory.Create(rootPrefix: cgroupPrefix);
var runtime = new LinuxRuntimeService(new RuntimeOptions { RootDir = Path.Combine(work, "root"), ShimPath = args[1], ResidentExecServers = true }, images, new OverlaySnapshotter(images), cgroups);
using var oneShot = new LinuxRuntimeService(new RuntimeOptions { RootDir = Path.Combine(work, "root"), ShimPath = args[1] }, images, new OverlaySnapshotter(images), cgroups);
try
{
    await images.ImportAsync(args[0], CancellationToken.None);
    var sandbox = await runtime.RunPodSandboxAsync(new PodSandboxConfig
    {
        Name = "bench",
        Namespace = "bench",
        Uid = Guid.NewGuid().ToString(),
        LogDirectory = Path.Combine(work, "logs"),
        CgroupParent = "kubepods/besteffort/podbench",
    }, CancellationToken.None);
    var id = await runtime.CreateContainerAsync(sandbox, new ContainerConfig
    {
        Name = "main",
        Image = "localhost/busybox:latest",
        Command = ["sleep", "100000"],
        LogPath = "main/0.log",
        // SECCOMP=1: the container (and so each exec) runs under the RuntimeDefault seccomp filter.
        Security = new ContainerSecurity { Seccomp = Environment.GetEnvironmentVariable("SECCOMP") == "1" ? SeccompProfile.RuntimeDefault : SeccompProfile.Unconfined },
    }, CancellationToken.None);
    await runtime.StartContainerAsync(id, CancellationToken.None);
    var pid = runtime.ContainerStatus(id)!.Pid;
    var nsenter = "/usr/bin/nsenter";
    string[] nsenterArgs = [nsenter, "-t", pid.ToString(CultureInfo.InvariantCulture), "-a", "true"];
    var config = Path.Combine(work, "root", "containers", id, NodeAgent.ContainerSpec.BundleFiles.Config);
    var spec = NodeAgent.ContainerSpec.BundleJson.ReadContainerSpec(File.ReadAllBytes(config), config);
    string[] joinArgs = ["/bin/sh", "/bin/sh", "-c", "for f in \"$@\"; do echo $$ > \"$f\"; done; exec " + string.Join(' ', nsenterArgs), "sh", .. spec.CgroupProcsFiles];

    // Warm-up: one of each (first-call costs of this process: JIT, the exit watcher's thread; the exec server's start).
    var first = Stopwatch.StartNew();
    await ExecOnceAsync(runtime);
    var firstExec = first.Elapsed.TotalMilliseconds;
    await ExecOnceAsync(oneShot);
    SpawnOnce(nsenterArgs);
    var exec = new List<double>();
    var helper = new List<double>();
    var enter = new List<double>();
    var joinEnter = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        var sw = Stopwatch.StartNew();
        await ExecOnceAsync(runtime);
        exec.Add(sw.Elapsed.TotalMilliseconds);
        sw.Restart();
        await ExecOnceAsync(oneShot);
        helper.Add(sw.Elapsed.TotalMilliseconds);
        sw.Restart();
        SpawnOnce(nsenterArgs);
        enter.Add(sw.Elapsed.TotalMilliseconds);
        sw.Restart();
        SpawnOnce(joinArgs[1..]);
        joinEnter.Add(sw.Elapsed.TotalMilliseconds);
    }

    Console.WriteLine($"runs: {runs} of each, alternating; container init pid {pid}; seccomp {(Environment.GetEnvironmentVariable("SECCOMP") == "1" ? "RuntimeDefault" : "unconfined")}; load {File.ReadAllText("/proc/loadavg").Trim()}");
    var server = runtime.ExecServerPid(id) ?? throw new InvalidOperationException("no resident exec server after the runs");
    var rss = File.ReadLines($"/proc/{server}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))["VmRSS:".Length..].Trim();
    var anon = File.ReadLines($"/proc/{server}/status").Single(l => l.StartsWith("RssAnon:", StringComparison.Ordinal))["RssAnon:".Length..].Trim();
    var threads = File.ReadLines($"/proc/{server}/status").Single(l => l.StartsWith("Threads:", StringComparison.Ordinal))["Threads:".Length..].Trim();
    Console.WriteLine($"ExecSync true, resident exec server (the agent)  p50 {P(exec, 50):F2} ms  p95 {P(exec, 95):F2} ms  (first exec, starting the server: {firstExec:F2} ms; server RSS {rss}, anonymous {anon}, {threads} threads)");
    Console.WriteLine($"ExecSync true, one-shot helper (the CLI)         p50 {P(helper, 50):F2} ms  p95 {P(helper, 95):F2} ms");
    Console.WriteLine($"nsenter -a true     p50 {P(enter, 50):F2} ms  p95 {P(enter, 95):F2} ms");
    Console.WriteLine($"cgroups + nsenter   p50 {P(joinEnter, 50):F2} ms  p95 {P(joinEnter, 95):F2} ms  (ExecSync / this: {P(exec, 50) / P(joinEnter, 50):F2})");
    if (Environment.GetEnvironmentVariable("SECCOMP") == "1")
    {
        // What the runtime saves by compiling once: libseccomp's compile of the default profile (fresh cache each
        // time) against the cached lookup a create does.
        var compile = new List<double>();
        var cached = new List<double>();
        var caps = spec.Process.Capabilities;
        var security = new ContainerSecurity { Seccomp = SeccompProfile.RuntimeDefault };
        for (var i = 0; i < 20; i++)
        {
            var filters = new NodeAgent.Runtime.Seccomp.SeccompFilters(work);
            var sw = Stopwatch.StartNew();
            filters.ProgramFor(id, security, caps);
            compile.Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            filters.ProgramFor(id, security, caps);
            cached.Add(sw.Elapsed.TotalMilliseconds);
        }

        Console.WriteLine($"seccomp RuntimeDefault: libseccomp compile p50 {P(compile, 50):F2} ms, cached lookup p50 {P(cached, 50):F3} ms; program {File.ReadAllBytes(Path.Combine(work, "root", "containers", id, "seccomp.bpf")).Length / 8} instructions");
    }

    Console.WriteLine($"ratio: {P(exec, 50) / P(enter, 50):F2}");

    async Task ExecOnceAsync(LinuxRuntimeService through)
    {
        var r = await through.ExecSyncAsync(id, ["true"], TimeSpan.FromSeconds(30), CancellationToken.None);
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException($"exec true exited {r.ExitCode}");
        }
    }

    void SpawnOnce(string[] argv)
    {
        var (read, write) = FileDescriptors.CreatePipe();
        using (read)
        using (write)
        {
            var fd = (int)write.DangerousGetHandle();
            var child = ProcessSpawner.Spawn(argv[0], argv, [], fd, fd);
            var code = ProcessSpawner.WaitForExit(child);
            if (code != 0)
            {
                throw new InvalidOperationException($"{string.Join(' ', argv)} exited {code}");
            }
        }
    }
}
finally
{
    foreach (var s in runtime.ListPodSandboxes())
    {
        await runtime.RemovePodSandboxAsync(s.Id, CancellationToken.None);
    }

    runtime.Dispose();
    foreach (var mount in Mounts.ListUnder(work))
    {
        Mounts.Unmount(mount, detach: true);
    }

    cgroups.Remove("");
    Directory.Delete(work, recursive: true);
}

return 0;

static double P(List<double> values, int percentile)
{
    var sorted = values.Order().ToList();
    var rank = Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count), 1, sorted.Count);
    return sorted[rank - 1];
}
