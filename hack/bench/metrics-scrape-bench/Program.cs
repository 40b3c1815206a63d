using System.Diagnostics;
using System.Globalization;
using NodeAgent.Cgroups;
using NodeAgent.Cri;
using NodeAgent.Images;
using NodeAgent.Kubelet.Reporting;
using NodeAgent.Kubelet.Stats;
using NodeAgent.Linux;
using NodeAgent.Network.Bridge;
using NodeAgent.Runtime;
using NodeAgent.Runtime.Stats;

// Metrics scrape benchmark (hack/bench/metrics-scrape): /metrics/cadvisor and /metrics/resource driven in-process
// (WriteAsync into a discarding stream, as the HTTPS server would call it) with PODS running busybox containers, each
// pod with its own network namespace on a bridge inside a node namespace this program creates. The stats service's
// cache is off (MaxAge 0): every scrape reads every cgroup file and every pod's netlink counters afresh. The peer reads
// the same cgroup files with `cat` (one cat per cgroup directory) in a bash loop, in the same run.
var pods = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 110;
var runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 50;
var images = args.Length > 2 ? args[2] : throw new ArgumentException("usage: MetricsScrapeBench PODS RUNS IMAGES_DIR SHIM");
var shim = args.Length > 3 ? args[3] : throw new ArgumentException("usage: MetricsScrapeBench PODS RUNS IMAGES_DIR SHIM");
var work = Directory.CreateTempSubdirectory("nodeagent-scrape-bench-").FullName;
var prefix = "nodeagent-bench-scrape-" + Guid.NewGuid().ToString("N")[..6];
var nodeNetns = Path.Combine(work, "node.netns");
NetworkNamespace.CreatePinned(nodeNetns);
var cgroups = CgroupManagerFactory.Create(rootPrefix: prefix);
var store = new ImageStore(Path.Combine(work, "root"));
var snapshotter = new OverlaySnapshotter(store);
await store.ImportAsync(Path.Combine(images, "busybox.oci.tar"), CancellationToken.None);
var network = new BridgeNetwork(new BridgeNetworkOptions { PodCidr = "10.90.0.0/23", StateDir = Path.Combine(work, "network"), NodeNetns = nodeNetns, BridgeName = "nabench0" });
var runtime = new LinuxRuntimeService(new RuntimeOptions { RootDir = Path.Combine(work, "root"), ShimPath = shim }, store, snapshotter, cgroups, network);
using var stats = new RuntimeStatsCollector(runtime, cgroups, snapshotter, Path.Combine(work, "root"), new RuntimeStatsOptions { MaxAge = TimeSpan.Zero, FilesystemInterval = TimeSpan.FromHours(1) });
try
{
    Console.WriteLine($"pods: {pods} (one running container each, each pod with its own network namespace), scrapes: {runs}");
    for (var i = 0; i < pods; i++)
    {
        var config = new PodSandboxConfig
        {
            Name = $"pod-{i:D3}", Namespace = "bench", Uid = Guid.NewGuid().ToString(), LogDirectory = Path.Combine(work, "logs", $"pod-{i:D3}"),
            CgroupParent = $"kubepods/besteffort/pod{i:D3}",
        };
        var sandbox = await runtime.RunPodSandboxAsync(config, CancellationToken.None);
        var id = await runtime.CreateContainerAsync(sandbox, new ContainerConfig { Name = "app", Image = "localhost/busybox:latest", Command = ["sleep", "100000"], LogPath = "app/0.log" }, CancellationToken.None);
        await runtime.StartContainerAsync(id, CancellationToken.None);
    }

    await stats.RefreshFilesystemUsageAsync(CancellationToken.None);
    var first = await stats.SnapshotAsync(CancellationToken.None);
    Console.WriteLine($"snapshot: {first.Containers.Count} containers, {first.Pods.Count} pods, errors: {first.Errors.Count}");

    // Where a collection's time goes: the cgroup files of every pod and container, and every pod's netlink dump.
    var reader = cgroups.CreateStatsReader();
    var usage = new NodeAgent.Cgroups.Stats.CgroupUsage();
    var cgroupPaths = runtime.ListPodSandboxes().Select(s => s.Config.CgroupParent)
        .Concat(runtime.ListContainers().Select(c => $"{runtime.PodSandboxStatus(c.SandboxId)!.Config.CgroupParent}/{c.Id}")).ToList();
    var cgroupTimes = new List<double>();
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    for (var r = 0; r < 20; r++)
    {
        var sw = Stopwatch.StartNew();
        foreach (var path in cgroupPaths)
        {
            reader.TryRead(path, usage, cfs: false);
        }

        cgroupTimes.Add(sw.Elapsed.TotalMilliseconds);
    }

    var cgroupCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds / 20;

    var linkReaders = runtime.ListPodSandboxes().Select(s => LinkStatistics.OpenIn(s.NamespacePaths["net"])).ToList();
    var links = new List<LinkCounters>();
    var netTimes = new List<double>();
    for (var r = 0; r < 20; r++)
    {
        var sw = Stopwatch.StartNew();
        foreach (var l in linkReaders)
        {
            l.Read(links);
        }

        netTimes.Add(sw.Elapsed.TotalMilliseconds);
    }

    linkReaders.ForEach(l => l.Dispose());
    Console.WriteLine($"breakdown: {cgroupPaths.Count} cgroups read on one thread p50 {P(cgroupTimes, 50):F2} ms (CPU {cgroupCpu:F2} ms); {pods} netlink dumps p50 {P(netTimes, 50):F2} ms");

    var cadvisor = Measure(new CadvisorExposition(stats), runs);
    var resource = Measure(new ResourceMetricsExposition(stats), runs);

    // The peer: the same cgroup files, one `cat` per cgroup directory, in one bash loop per run.
    var dirs = new List<string>();
    foreach (var c in first.Containers)
    {
        dirs.Add(c.CgroupName);
    }

    foreach (var p in first.Pods)
    {
        dirs.Add(p.CgroupName);
    }

    var script = Path.Combine(work, "cat-loop.sh");
    File.WriteAllText(script, "for d in \"$@\"; do cat " +
        "/sys/fs/cgroup/pids$d/cgroup.procs /sys/fs/cgroup/cpuacct$d/cpuacct.usage /sys/fs/cgroup/cpu$d/cpu.stat " +
        "/sys/fs/cgroup/memory$d/memory.usage_in_bytes /sys/fs/cgroup/memory$d/memory.stat /sys/fs/cgroup/memory$d/memory.failcnt " +
        "/sys/fs/cgroup/memory$d/memory.oom_control /sys/fs/cgroup/pids$d/pids.current /sys/fs/cgroup/blkio$d/blkio.throttle.io_service_bytes_recursive " +
        "> /dev/null || exit 1; done\n");
    var shell = new List<double>();
    for (var r = 0; r < Math.Min(runs, 20); r++)
    {
        var start = new ProcessStartInfo("bash", [script, .. dirs]) { RedirectStandardError = true };
        var sw = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var err = process.StandardError.ReadToEnd();
        process.WaitForExit();
        sw.Stop();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("cat loop failed: " + err);
        }

        shell.Add(sw.Elapsed.TotalMilliseconds);
    }

    Report("/metrics/cadvisor", cadvisor);
    Report("/metrics/resource", resource);
    Console.WriteLine($"cat loop ({dirs.Count} cgroups, 9 files each): p50 {P(shell, 50):F2} ms  p95 {P(shell, 95):F2} ms");
    Console.WriteLine($"ratio: {P(cadvisor.Latency, 50) / P(shell, 50):F2}");
}
finally
{
    stats.Dispose();
    foreach (var s in runtime.ListPodSandboxes())
    {
        await runtime.RemovePodSandboxAsync(s.Id, CancellationToken.None);
    }

    runtime.Dispose();
    network.Dispose();
    foreach (var mount in Mounts.ListUnder(work))
    {
        Mounts.Unmount(mount, detach: true);
    }

    cgroups.Remove("");
    NetworkNamespace.RemovePinned(nodeNetns);
    Directory.Delete(work, recursive: true);
}

static (List<double> Latency, List<long> Allocated, long Bytes) Measure(IHttpExposition exposition, int runs)
{
    var query = new Dictionary<string, string>();
    long bytes = 0;
    for (var i = 0; i < 5; i++)
    {
        var warm = new CountingStream();
        exposition.WriteAsync(warm, query, CancellationToken.None).GetAwaiter().GetResult();
        bytes = warm.Length;
    }

    var latency = new List<double>();
    var allocated = new List<long>();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    for (var i = 0; i < runs; i++)
    {
        var body = new CountingStream();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var sw = Stopwatch.StartNew();
        exposition.WriteAsync(body, query, CancellationToken.None).GetAwaiter().GetResult();
        sw.Stop();
        allocated.Add(GC.GetTotalAllocatedBytes(precise: true) - before);
        latency.Add(sw.Elapsed.TotalMilliseconds);
    }

    Console.WriteLine($"  (CPU per scrape, all threads: {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / runs:F2} ms)");
    return (latency, allocated, bytes);
}

static void Report(string path, (List<double> Latency, List<long> Allocated, long Bytes) m) =>
    Console.WriteLine($"{path}: p50 {P(m.Latency, 50):F2} ms  p95 {P(m.Latency, 95):F2} ms  allocated/scrape p50 {P(m.Allocated.ConvertAll(a => (double)a), 50) / 1024:F0} KiB  body {m.Bytes / 1024} KiB");

static double P(List<double> values, int p)
{
    var sorted = values.Order().ToList();
    var i = (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1;
    return sorted[Math.Clamp(i, 0, sorted.Count - 1)];
}

/// <summary>A response body that counts and discards what is written.</summary>
internal sealed class CountingStream : Stream
{
    private long _length;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => _length += count;

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _length += buffer.Length;
        return ValueTask.CompletedTask;
    }
}
