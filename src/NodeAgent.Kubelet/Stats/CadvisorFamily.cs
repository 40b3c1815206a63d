using System.Text;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Stats;

/// <summary>One family of <c>/metrics/cadvisor</c>: cAdvisor's name, HELP text and type, and how a series' samples are written.</summary>
internal sealed class CadvisorFamily
{
    private delegate void SeriesWriter(MetricsTextWriter w, CadvisorFamily f, CadvisorSeries s);

    private readonly SeriesWriter? _series;
    private readonly Action<MetricsTextWriter, CadvisorFamily, RuntimeStatsSnapshot>? _machine;

    private CadvisorFamily(string name, string help, string type, SeriesWriter? series = null, Action<MetricsTextWriter, CadvisorFamily, RuntimeStatsSnapshot>? machine = null)
    {
        Name = Encoding.UTF8.GetBytes(name);
        Help = Encoding.UTF8.GetBytes(help);
        Type = Encoding.UTF8.GetBytes(type);
        _series = series;
        _machine = machine;
    }

    public byte[] Name { get; }

    public byte[] Help { get; }

    public byte[] Type { get; }

    /// <summary>Every family, sorted by name as cAdvisor's registry writes them.</summary>
    public static readonly CadvisorFamily[] All =
    [
        Counter("container_cpu_cfs_periods_total", "Number of elapsed enforcement period intervals.", (w, f, s) => { if (HasQuota(s)) { One(w, f, s, s.Cpu.Periods); } }),
        Counter("container_cpu_cfs_throttled_periods_total", "Number of throttled period intervals.", (w, f, s) => { if (HasQuota(s)) { One(w, f, s, s.Cpu.ThrottledPeriods); } }),
        Counter("container_cpu_cfs_throttled_seconds_total", "Total time duration the container has been throttled.", (w, f, s) => { if (HasQuota(s)) { One(w, f, s, s.Cpu.ThrottledNanos / 1e9); } }),
        Counter("container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", (w, f, s) =>
        {
            Begin(w, f, s, "cpu=\"total\","u8);
            End(w, s, s.Cpu.UsageNanos / 1e9);
        }),
        Counter("container_fs_reads_bytes_total", "Cumulative count of bytes read", (w, f, s) =>
        {
            foreach (var d in s.DiskIo)
            {
                BeginDevice(w, f, s, d.Device);
                End(w, s, d.ReadBytes);
            }
        }),
        Gauge("container_fs_usage_bytes", "Number of bytes that are consumed by the container on this filesystem.", (w, f, s) =>
        {
            if (s.Fs is { } fs)
            {
                BeginDevice(w, f, s, fs.Device);
                End(w, s, fs.UsedBytes);
            }
        }),
        Counter("container_fs_writes_bytes_total", "Cumulative count of bytes written", (w, f, s) =>
        {
            foreach (var d in s.DiskIo)
            {
                BeginDevice(w, f, s, d.Device);
                End(w, s, d.WriteBytes);
            }
        }),
        Gauge("container_last_seen", "Last time a container was seen by the exporter", (w, f, s) => One(w, f, s, (double)(s.TimestampMs / 1000))),
        Gauge("container_memory_cache", "Number of bytes of page cache memory.", (w, f, s) => One(w, f, s, s.Memory.CacheBytes)),
        Counter("container_memory_failcnt", "Number of memory usage hits limits", (w, f, s) => One(w, f, s, s.Memory.Failcnt)),
        Gauge("container_memory_rss", "Size of RSS in bytes.", (w, f, s) => One(w, f, s, s.Memory.RssBytes)),
        Gauge("container_memory_swap", "Container swap usage in bytes.", (w, f, s) => One(w, f, s, s.Memory.SwapBytes)),
        Gauge("container_memory_usage_bytes", "Current memory usage in bytes, including all memory regardless of when it was accessed", (w, f, s) => One(w, f, s, s.Memory.UsageBytes)),
        Gauge("container_memory_working_set_bytes", "Current working set in bytes.", (w, f, s) => One(w, f, s, s.Memory.WorkingSetBytes)),
        Network("container_network_receive_bytes_total", "Cumulative count of bytes received", i => i.RxBytes),
        Network("container_network_receive_errors_total", "Cumulative count of errors encountered while receiving", i => i.RxErrors),
        Network("container_network_receive_packets_dropped_total", "Cumulative count of packets dropped while receiving", i => i.RxDropped),
        Network("container_network_receive_packets_total", "Cumulative count of packets received", i => i.RxPackets),
        Network("container_network_transmit_bytes_total", "Cumulative count of bytes transmitted", i => i.TxBytes),
        Network("container_network_transmit_errors_total", "Cumulative count of errors encountered while transmitting", i => i.TxErrors),
        Network("container_network_transmit_packets_dropped_total", "Cumulative count of packets dropped while transmitting", i => i.TxDropped),
        Network("container_network_transmit_packets_total", "Cumulative count of packets transmitted", i => i.TxPackets),
        Counter("container_oom_events_total", "Count of out of memory events observed for the container", (w, f, s) => One(w, f, s, s.Memory.OomKills)),
        Gauge("container_processes", "Number of processes running inside the container.", (w, f, s) => { if (s.Processes is { } p) { One(w, f, s, p); } }),
        new("container_scrape_error", "1 if there was an error while getting container metrics, 0 otherwise", "gauge",
            machine: (w, f, snapshot) => Machine(w, f, snapshot.Errors.Count > 0 ? 1UL : 0UL, null)),
        Gauge("container_spec_cpu_period", "CPU period of the container.", (w, f, s) => { if (s.Limits is { } l) { One(w, f, s, (ulong)Math.Max(0, l.CpuPeriodMicros)); } }),
        Gauge("container_spec_cpu_quota", "CPU quota of the container.", (w, f, s) => { if (s.Limits?.CpuQuotaMicros is { } q && q > 0) { One(w, f, s, (ulong)q); } }),
        Gauge("container_spec_cpu_shares", "CPU share of the container.", (w, f, s) => { if (s.Limits is { } l) { One(w, f, s, (ulong)Math.Max(0, l.CpuShares ?? 1024)); } }),
        Gauge("container_spec_memory_limit_bytes", "Memory limit for the container.", (w, f, s) => { if (s.Limits is { } l) { One(w, f, s, (ulong)Math.Max(0, l.MemoryLimitBytes ?? 0)); } }),
        Gauge("container_start_time_seconds", "Start time of the container since unix epoch in seconds.", (w, f, s) => One(w, f, s, s.StartTimeSeconds)),
        Gauge("container_threads", "Number of threads running inside the container", (w, f, s) => { if (s.Threads is { } t) { One(w, f, s, t); } }),
        new("machine_cpu_cores", "Number of logical CPU cores.", "gauge",
            machine: (w, f, snapshot) => Machine(w, f, (ulong)snapshot.Machine.CpuCores, snapshot)),
        new("machine_memory_bytes", "Amount of memory installed on the machine.", "gauge",
            machine: (w, f, snapshot) => Machine(w, f, snapshot.Machine.MemoryBytes, snapshot)),
    ];

    public void Write(MetricsTextWriter w, RuntimeStatsSnapshot snapshot, List<CadvisorSeries> series)
    {
        w.Family(Name, Help, Type);
        if (_machine is not null)
        {
            _machine(w, this, snapshot);
            return;
        }

        foreach (var s in series)
        {
            _series!(w, this, s);
        }
    }

    private static CadvisorFamily Counter(string name, string help, SeriesWriter write) => new(name, help, "counter", write);

    private static CadvisorFamily Gauge(string name, string help, SeriesWriter write) => new(name, help, "gauge", write);

    private static CadvisorFamily Network(string name, string help, Func<InterfaceStats, ulong> value) => new(name, help, "counter", (w, f, s) =>
    {
        foreach (var i in s.Network)
        {
            Begin(w, f, s, default);
            w.Raw(s.IdImage);
            w.Raw(","u8);
            w.Label("interface"u8, i.Name);
            w.Raw(","u8);
            w.Raw(s.NameNamespacePod);
            w.Raw("}"u8);
            w.Value(value(i));
            w.End(s.TimestampMs);
        }
    });

    private static bool HasQuota(CadvisorSeries s) => s.Limits?.CpuQuotaMicros is > 0;

    private static void One(MetricsTextWriter w, CadvisorFamily f, CadvisorSeries s, ulong value)
    {
        Begin(w, f, s, default);
        End(w, s, value);
    }

    private static void One(MetricsTextWriter w, CadvisorFamily f, CadvisorSeries s, double value)
    {
        Begin(w, f, s, default);
        End(w, s, value);
    }

    /// <summary>Name, <c>{container="…",</c> and any label sorting before <c>id</c>; <see cref="End(MetricsTextWriter, CadvisorSeries, ulong)"/> writes the rest.</summary>
    private static void Begin(MetricsTextWriter w, CadvisorFamily f, CadvisorSeries s, ReadOnlySpan<byte> beforeId)
    {
        w.Raw(f.Name);
        w.Raw("{"u8);
        w.Raw(s.Container);
        w.Raw(","u8);
        w.Raw(beforeId);
    }

    private static void BeginDevice(MetricsTextWriter w, CadvisorFamily f, CadvisorSeries s, string device)
    {
        Begin(w, f, s, default);
        w.Label("device"u8, device);
        w.Raw(","u8);
    }

    private static void End(MetricsTextWriter w, CadvisorSeries s, ulong value)
    {
        Rest(w, s);
        w.Value(value);
        w.End(s.TimestampMs);
    }

    private static void End(MetricsTextWriter w, CadvisorSeries s, double value)
    {
        Rest(w, s);
        w.Value(value);
        w.End(s.TimestampMs);
    }

    private static void Rest(MetricsTextWriter w, CadvisorSeries s)
    {
        w.Raw(s.IdImage);
        w.Raw(","u8);
        w.Raw(s.NameNamespacePod);
        w.Raw("}"u8);
    }

    /// <summary>A machine-level sample: cAdvisor labels machine_* with boot_id, machine_id and system_uuid.</summary>
    private static void Machine(MetricsTextWriter w, CadvisorFamily f, ulong value, RuntimeStatsSnapshot? snapshot)
    {
        w.Raw(f.Name);
        if (snapshot is not null)
        {
            w.Raw("{"u8);
            w.Label("boot_id"u8, snapshot.Machine.BootId);
            w.Raw(","u8);
            w.Label("machine_id"u8, snapshot.Machine.MachineId);
            w.Raw(","u8);
            w.Label("system_uuid"u8, snapshot.Machine.SystemUuid);
            w.Raw("}"u8);
        }

        w.Value(value);
        w.End(snapshot?.Timestamp.ToUnixTimeMilliseconds());
    }
}
