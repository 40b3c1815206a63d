using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Stats;
using NodeAgent.Linux;
using NodeAgent.Network.Bridge;
using NodeAgent.Runtime.Stats;
using NodeAgent.Tests.Network;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Stats;

/// <summary>
/// The stats service and the three kubelet documents over real containers: real cgroups (this host's v1
/// hierarchies under a test prefix), a real pod network (the bridge inside a node namespace the test creates), real
/// netlink counters, promtool on the Prometheus texts, the Summary JSON field by field.
/// </summary>
public sealed class RuntimeStatsTests : IAsyncLifetime
{
    private readonly HostSnapshot _host = HostSnapshot.Take();
    private readonly TempDir _dir = new("nodeagent-stats");
    private readonly List<BridgeNetwork> _networks = [];
    private NodeNetns _node = null!;
    private RuntimeFixture _rt = null!;
    private RuntimeStatsCollector _stats = null!;

    public Task InitializeAsync()
    {
        if (Privileged.SkipRequested)
        {
            return Task.CompletedTask;
        }

        _node = new NodeNetns(_dir.Path);
        _rt = new RuntimeFixture(() =>
        {
            var network = new BridgeNetwork(new BridgeNetworkOptions { PodCidr = "10.89.0.0/24", StateDir = _dir.Combine("network"), NodeNetns = _node.NodePath, BridgeName = "nastats0" });
            _networks.Add(network);
            return network;
        });
        _stats = new RuntimeStatsCollector(_rt.Runtime, _rt.Cgroups, _rt.Snapshotter, _rt.Root,
            new RuntimeStatsOptions { MaxAge = TimeSpan.Zero, FilesystemInterval = TimeSpan.FromHours(1) });
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        if (Privileged.SkipRequested)
        {
            return Task.CompletedTask;
        }

        try
        {
            _stats.Dispose();
            _rt.Dispose();
        }
        finally
        {
            _networks.ForEach(n => n.Dispose());
            _node.Dispose();
            _dir.Dispose();
        }

        _host.AssertUnchanged();
        return Task.CompletedTask;
    }

    [PrivilegedFact]
    public async Task Container_readings_match_its_cgroup_files()
    {
        var (_, id) = await _rt.StartAsync("busy", RuntimeFixture.Container("main", "sh", "-c", "sleep 1000 & sleep 1000 & while :; do :; done"));
        var dir = (string controller) => $"/sys/fs/cgroup/{controller}/{_rt.CgroupPrefix}/kubepods/besteffort/podbusy/{id}";
        await WaitUntilAsync(() => File.ReadAllLines(Path.Combine(dir("pids"), "cgroup.procs")).Length == 3, "three processes in the container");

        ulong cpuBefore = Number(dir("cpuacct"), "cpuacct.usage");
        var c = Assert.Single((await _stats.SnapshotAsync(CancellationToken.None)).Containers, x => x.Id == id);
        ulong cpuAfter = Number(dir("cpuacct"), "cpuacct.usage");
        Assert.InRange(c.Cpu.UsageNanos, cpuBefore, cpuAfter);

        Assert.Equal(3UL, c.Processes);
        Assert.Equal(Number(dir("pids"), "pids.current"), c.Threads);
        ulong usage = Number(dir("memory"), "memory.usage_in_bytes");
        ulong inactive = Keyed(dir("memory"), "memory.stat", "total_inactive_file");
        Assert.InRange((double)c.Memory.UsageBytes, usage - 2e6, usage + 2e6);
        Assert.InRange((double)c.Memory.WorkingSetBytes, usage - inactive - 2e6, usage - inactive + 2e6);
        Assert.InRange((double)c.Memory.RssBytes, Keyed(dir("memory"), "memory.stat", "total_rss") - 2e6, Keyed(dir("memory"), "memory.stat", "total_rss") + 2e6);
        Assert.Equal(Number(dir("memory"), "memory.failcnt"), c.Memory.Failcnt);
        Assert.Equal(Keyed(dir("memory"), "memory.oom_control", "oom_kill"), c.Memory.OomKills);
        Assert.Equal(Keyed(dir("cpu"), "cpu.stat", "nr_periods"), c.Cpu.Periods);
        Assert.Equal($"/{_rt.CgroupPrefix}/kubepods/besteffort/podbusy/{id}", c.CgroupName);
        Assert.Equal(("main", "localhost/busybox:latest"), (c.Name, c.Image));
        Assert.True(c.StartedAt > DateTimeOffset.UtcNow.AddMinutes(-5));

        // The pod cgroup holds the container: its cpu counter is at least the container's.
        var pod = Assert.Single((await _stats.SnapshotAsync(CancellationToken.None)).Pods, p => p.Name == "busy");
        Assert.True(pod.Cpu.UsageNanos >= c.Cpu.UsageNanos);
        Assert.Equal($"/{_rt.CgroupPrefix}/kubepods/besteffort/podbusy", pod.CgroupName);
    }

    [PrivilegedFact]
    public async Task A_busy_containers_cpu_counter_rises()
    {
        var (_, id) = await _rt.StartAsync("spin", RuntimeFixture.Container("main", "sh", "-c", "while :; do :; done"));
        var first = Assert.Single((await _stats.SnapshotAsync(CancellationToken.None)).Containers, x => x.Id == id).Cpu.UsageNanos;
        ulong latest = first;
        await WaitUntilAsync(async () =>
        {
            latest = Assert.Single((await _stats.SnapshotAsync(CancellationToken.None)).Containers, x => x.Id == id).Cpu.UsageNanos;
            return latest >= first + 200_000_000;
        }, "200 ms more CPU time");
        Assert.True(latest > first);
    }

    [PrivilegedFact]
    public async Task Pod_network_counters_rise_with_the_pods_traffic()
    {
        var (sandbox, _) = await _rt.StartAsync("net", RuntimeFixture.Container("main", "sleep", "1000"));
        var netns = _rt.Runtime.PodSandboxStatus(sandbox)!.NamespacePaths["net"];
        var before = Assert.Single(Assert.Single((await _stats.SnapshotAsync(CancellationToken.None)).Pods, p => p.Id == sandbox).Network);
        Assert.Equal("eth0", before.Name);

        NetworkNamespace.Run(netns, () =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            for (int i = 0; i < 30; i++)
            {
                socket.SendTo(new byte[500], new IPEndPoint(IPAddress.Parse("10.89.0.1"), 9));
            }

            return true;
        });

        var after = Assert.Single(Assert.Single((await _stats.SnapshotAsync(CancellationToken.None)).Pods, p => p.Id == sandbox).Network);
        Assert.True(after.TxPackets - before.TxPackets >= 30, $"eth0 tx packets {before.TxPackets} → {after.TxPackets}");
        Assert.True(after.TxBytes - before.TxBytes >= 30 * 500, $"eth0 tx bytes {before.TxBytes} → {after.TxBytes}");

        var text = Encoding.UTF8.GetString(await WriteAsync(new CadvisorExposition(_stats)));
        Assert.Contains($"container_network_transmit_packets_total{{container=\"\",id=\"/{_rt.CgroupPrefix}/kubepods/besteffort/podnet\",image=\"\",interface=\"eth0\",name=\"\",namespace=\"test\",pod=\"net\"}} ", text);
    }

    [PrivilegedFact]
    public async Task Cadvisor_metrics_pass_promtool_with_every_family_and_kubelets_labels()
    {
        var limited = RuntimeFixture.Container("app", "sh", "-c", "while :; do :; done") with
        {
            Resources = new LinuxContainerResources { CpuQuotaMicros = 20_000, MemoryLimitBytes = 64 * 1024 * 1024 },
        };
        var (_, id) = await _rt.StartAsync("web", limited);
        await _stats.SnapshotAsync(CancellationToken.None);
        var body = await WriteAsync(new CadvisorExposition(_stats));
        Assert.Equal([Promtool.CadvisorFailcntLint], await Promtool.CheckAsync(body));

        var text = Encoding.UTF8.GetString(body);
        string[] families =
        [
            "container_cpu_usage_seconds_total", "container_cpu_cfs_periods_total", "container_cpu_cfs_throttled_periods_total",
            "container_cpu_cfs_throttled_seconds_total", "container_memory_usage_bytes", "container_memory_working_set_bytes",
            "container_memory_rss", "container_memory_cache", "container_memory_swap", "container_memory_failcnt",
            "container_oom_events_total", "container_network_receive_bytes_total", "container_network_receive_packets_total",
            "container_network_receive_errors_total", "container_network_transmit_bytes_total", "container_network_transmit_packets_total",
            "container_network_transmit_errors_total", "container_fs_reads_bytes_total", "container_fs_writes_bytes_total",
            "container_fs_usage_bytes", "container_processes", "container_threads", "container_start_time_seconds", "container_last_seen",
            "container_spec_cpu_quota", "container_spec_memory_limit_bytes", "machine_cpu_cores", "machine_memory_bytes",
        ];
        foreach (var family in families)
        {
            Assert.Contains($"# TYPE {family} ", text);
        }

        string labels = $"container=\"app\",cpu=\"total\",id=\"/{_rt.CgroupPrefix}/kubepods/besteffort/podweb/{id}\",image=\"localhost/busybox:latest\",name=\"{id}\",namespace=\"test\",pod=\"web\"";
        Assert.Contains($"container_cpu_usage_seconds_total{{{labels}}} ", text);
        string plain = labels.Replace("cpu=\"total\",", "", StringComparison.Ordinal);
        Assert.Contains($"container_spec_cpu_quota{{{plain}}} 20000 ", text);
        Assert.Contains($"container_spec_memory_limit_bytes{{{plain}}} 67108864 ", text);
        Assert.Contains($"container_cpu_cfs_periods_total{{{plain}}} ", text);
        Assert.Contains($"machine_cpu_cores{{boot_id=\"{File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim()}\"", text);
        Assert.Matches(@"\ncontainer_memory_working_set_bytes\{container="""",id=""/"",image="""",name="""",namespace="""",pod=""""\} \d", text);
    }

    [PrivilegedFact]
    public async Task Resource_metrics_are_what_metrics_server_parses()
    {
        var (_, _) = await _rt.StartAsync("res", RuntimeFixture.Container("main", "sleep", "1000"));
        var body = await WriteAsync(new ResourceMetricsExposition(_stats));
        Assert.Empty(await Promtool.CheckAsync(body));
        var text = Encoding.UTF8.GetString(body);
        Assert.Matches(@"\ncontainer_cpu_usage_seconds_total\{container=""main"",namespace=""test"",pod=""res""\} [0-9.e+-]+ \d{13}\n", text);
        Assert.Matches(@"\ncontainer_memory_working_set_bytes\{container=""main"",namespace=""test"",pod=""res""\} \d+ \d{13}\n", text);
        Assert.Matches(@"\ncontainer_start_time_seconds\{container=""main"",namespace=""test"",pod=""res""\} [0-9.e+]+\n", text);
        Assert.Matches(@"\npod_cpu_usage_seconds_total\{namespace=""test"",pod=""res""\} [0-9.e+-]+ \d{13}\n", text);
        Assert.Matches(@"\npod_memory_working_set_bytes\{namespace=""test"",pod=""res""\} \d+ \d{13}\n", text);
        Assert.Matches(@"\nnode_cpu_usage_seconds_total [0-9.e+]+ \d{13}\n", text);
        Assert.Matches(@"\nnode_memory_working_set_bytes \d+ \d{13}\n", text);
        Assert.Contains("\nresource_scrape_error 0\n", text);
    }

    [PrivilegedFact]
    public async Task Summary_is_kubelets_json_field_by_field()
    {
        var (sandbox, id) = await _rt.StartAsync("sum", RuntimeFixture.Container("main", "sh", "-c",
            "head -c 2000000 /dev/zero > /bigfile; echo written; sleep 1000 & while :; do :; done"));
        await WaitUntilAsync(() => File.Exists(_rt.Runtime.ContainerStatus(id)!.LogPath) && File.ReadAllText(_rt.Runtime.ContainerStatus(id)!.LogPath).Contains("written", StringComparison.Ordinal), "the container to write its file");
        await _stats.RefreshFilesystemUsageAsync(CancellationToken.None);
        var exposition = new SummaryExposition(_stats, _rt.ImageService, "node-a");
        await WriteAsync(exposition); // a first snapshot, so the second has a CPU rate
        var cpuacct = $"/sys/fs/cgroup/cpuacct/{_rt.CgroupPrefix}/kubepods/besteffort/podsum/{id}";
        ulong spent = Number(cpuacct, "cpuacct.usage");
        await WaitUntilAsync(() => Number(cpuacct, "cpuacct.usage") > spent + 300_000_000, "300 ms more CPU time, so the rate spans a real interval");
        using var json = JsonDocument.Parse(await WriteAsync(exposition));
        var root = json.RootElement;

        var node = root.GetProperty("node");
        Assert.Equal("node-a", node.GetProperty("nodeName").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", node.GetProperty("startTime").GetString());
        Assert.True(node.GetProperty("cpu").GetProperty("usageCoreNanoSeconds").GetUInt64() > 0);
        Assert.True(node.GetProperty("cpu").GetProperty("usageNanoCores").GetUInt64() > 0);
        var nodeMemory = node.GetProperty("memory");
        Assert.True(nodeMemory.GetProperty("workingSetBytes").GetUInt64() > 0);
        Assert.True(nodeMemory.GetProperty("availableBytes").GetUInt64() > 0);
        var fs = node.GetProperty("fs");
        var vfs = DiskUsage.Filesystem(_rt.Root);
        Assert.Equal(vfs.CapacityBytes, fs.GetProperty("capacityBytes").GetUInt64());
        Assert.Equal(vfs.Inodes, fs.GetProperty("inodes").GetUInt64());
        Assert.True(node.GetProperty("runtime").GetProperty("imageFs").GetProperty("usedBytes").GetUInt64() > 0);
        Assert.Equal(ulong.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim(), CultureInfo.InvariantCulture), node.GetProperty("rlimit").GetProperty("maxpid").GetUInt64());
        Assert.True(node.GetProperty("rlimit").GetProperty("curproc").GetUInt64() > 10);

        var pod = root.GetProperty("pods").EnumerateArray().Single(p => p.GetProperty("podRef").GetProperty("name").GetString() == "sum");
        var status = _rt.Runtime.PodSandboxStatus(sandbox)!;
        Assert.Equal("test", pod.GetProperty("podRef").GetProperty("namespace").GetString());
        Assert.Equal(status.Config.Uid, pod.GetProperty("podRef").GetProperty("uid").GetString());
        Assert.Equal("eth0", pod.GetProperty("network").GetProperty("name").GetString());
        Assert.Equal("eth0", pod.GetProperty("network").GetProperty("interfaces")[0].GetProperty("name").GetString());
        Assert.Equal(2UL, pod.GetProperty("process_stats").GetProperty("process_count").GetUInt64());
        var container = Assert.Single(pod.GetProperty("containers").EnumerateArray());
        Assert.Equal("main", container.GetProperty("name").GetString());
        Assert.True(container.GetProperty("cpu").GetProperty("usageNanoCores").GetUInt64() > 100_000_000, "a spinning shell uses well over 0.1 core");
        Assert.True(container.GetProperty("memory").GetProperty("workingSetBytes").GetUInt64() > 0);
        Assert.True(container.GetProperty("rootfs").GetProperty("usedBytes").GetUInt64() >= 2_000_000);
        Assert.True(container.GetProperty("rootfs").GetProperty("inodesUsed").GetUInt64() >= 1);
        Assert.Equal(vfs.CapacityBytes, container.GetProperty("rootfs").GetProperty("capacityBytes").GetUInt64());
        Assert.True(container.GetProperty("logs").GetProperty("usedBytes").GetUInt64() > 0);
        Assert.True(pod.GetProperty("ephemeral-storage").GetProperty("usedBytes").GetUInt64() >= 2_000_000);

        using var small = JsonDocument.Parse(await WriteAsync(exposition, new Dictionary<string, string> { ["only_cpu_and_memory"] = "true" }));
        Assert.False(small.RootElement.GetProperty("node").TryGetProperty("fs", out _));
        var smallPod = small.RootElement.GetProperty("pods").EnumerateArray().Single(p => p.GetProperty("podRef").GetProperty("name").GetString() == "sum");
        Assert.False(smallPod.TryGetProperty("network", out _));
        Assert.True(smallPod.GetProperty("memory").GetProperty("workingSetBytes").GetUInt64() > 0);
    }

    [PrivilegedFact]
    public async Task Containers_removed_mid_scrape_leave_every_scrape_valid()
    {
        var ids = new List<(string Sandbox, string Container)>();
        for (int i = 0; i < 6; i++)
        {
            ids.Add(await _rt.StartAsync($"gone{i}", RuntimeFixture.Container("main", "sleep", "1000")));
        }

        var cadvisor = new CadvisorExposition(_stats);
        var resource = new ResourceMetricsExposition(_stats);
        var summary = new SummaryExposition(_stats, _rt.ImageService, "node-a");
        using var stop = new CancellationTokenSource();
        int scrapes = 0;
        var scraper = Task.Run(async () =>
        {
            byte[] last = [];
            while (!stop.IsCancellationRequested)
            {
                last = await WriteAsync(cadvisor);
                JsonDocument.Parse(await WriteAsync(summary)).Dispose();
                await WriteAsync(resource);
                Interlocked.Increment(ref scrapes);
            }

            return last;
        });

        foreach (var (sandbox, _) in ids)
        {
            await _rt.Runtime.RemovePodSandboxAsync(sandbox, CancellationToken.None);
        }

        await WaitUntilAsync(() => Volatile.Read(ref scrapes) >= 3, "three scrapes after the removals");
        stop.Cancel();
        var final = await scraper.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal([Promtool.CadvisorFailcntLint], await Promtool.CheckAsync(final));
        var snapshot = await _stats.SnapshotAsync(CancellationToken.None);
        Assert.DoesNotContain(snapshot.Containers, c => ids.Any(i => i.Container == c.Id));
        Assert.Empty(snapshot.Errors);
    }

    private static async Task<byte[]> WriteAsync(NodeAgent.Kubelet.Reporting.IHttpExposition exposition, Dictionary<string, string>? query = null)
    {
        using var body = new MemoryStream();
        await exposition.WriteAsync(body, query ?? [], CancellationToken.None);
        return body.ToArray();
    }

    private static ulong Number(string dir, string file) => ulong.Parse(File.ReadAllText(Path.Combine(dir, file)).Trim(), CultureInfo.InvariantCulture);

    private static ulong Keyed(string dir, string file, string key) =>
        File.ReadAllLines(Path.Combine(dir, file)).Select(l => l.Split(' ')).Where(p => p.Length == 2 && p[0] == key)
            .Select(p => ulong.Parse(p[1], CultureInfo.InvariantCulture)).Single();

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Yield();
            await Task.Delay(20);
        }
    }
}
