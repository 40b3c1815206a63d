using System.Globalization;
using System.Text.Json;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Reporting;
using NodeAgent.Kubelet.Stats.Summary;

namespace NodeAgent.Kubelet.Stats;

/// <summary>
/// <c>/stats/summary</c>: kubelet's stats/v1alpha1 Summary JSON (node cpu, memory, network, fs, runtime image fs,
/// rlimit, swap; pods with their containers, network, ephemeral storage and process count) from the stats service's
/// snapshot. <c>only_cpu_and_memory=true</c> leaves everything else out, as kubelet does for metrics-server. The
/// document is rendered once per snapshot and per variant; <c>usageNanoCores</c> is the rate between the previous
/// snapshot and this one.
/// </summary>
public sealed class SummaryExposition : IHttpExposition
{
    private readonly IRuntimeStats _stats;
    private readonly IImageService _images;
    private readonly string _nodeName;
    private readonly PerSnapshot<byte[]> _full;
    private readonly PerSnapshot<byte[]> _cpuAndMemory;
    private readonly Lock _rates = new();
    private readonly PerSnapshot<Dictionary<string, ulong>> _nanoCores;
    private Dictionary<string, (ulong Nanos, DateTimeOffset At)> _previous = new(StringComparer.Ordinal);

    private readonly PodVolumeUsage? _volumes;

    /// <param name="volumes">The pods' volume usage (kubelet's volume stats); null: no <c>volume</c> lists.</param>
    public SummaryExposition(IRuntimeStats stats, IImageService images, string nodeName, PodVolumeUsage? volumes = null)
    {
        _volumes = volumes;
        _stats = stats;
        _images = images;
        _nodeName = nodeName;
        _nanoCores = new(Rates);
        _full = new(s => Render(s, full: true));
        _cpuAndMemory = new(s => Render(s, full: false));
    }

    public string Path => "/stats/summary";

    public string Subresource => "stats";

    public string ContentType => "application/json";

    public async Task WriteAsync(Stream body, IReadOnlyDictionary<string, string> query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(query);
        bool onlyCpuAndMemory = query.TryGetValue("only_cpu_and_memory", out var v) && bool.TryParse(v, out bool b) && b;
        var snapshot = await _stats.SnapshotAsync(cancellationToken).ConfigureAwait(false);
        var document = onlyCpuAndMemory ? _cpuAndMemory.Get(snapshot) : _full.Get(snapshot);
        await body.WriteAsync(document, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The summary as kubelet would serve it for <paramref name="snapshot"/> (tests and the renderer).</summary>
    internal StatsSummary Build(RuntimeStatsSnapshot snapshot, bool full)
    {
        var rates = _nanoCores.Get(snapshot);
        var node = snapshot.Node;
        string now = Time(snapshot.Timestamp);
        var rootFs = full ? Fs(node.RootFs, snapshot.Timestamp) : null;
        var nodeStats = new NodeStatsJson
        {
            NodeName = _nodeName,
            StartTime = Time(node.BootTime),
            Cpu = Cpu(node.Cpu, snapshot.Timestamp, rates.TryGetValue("", out var nodeRate) ? nodeRate : null),
            Memory = Memory(node.Memory, snapshot.Timestamp, snapshot.Machine.MemoryBytes),
            Network = full ? Network(node.Network, snapshot.Timestamp) : null,
            Fs = rootFs,
            Runtime = full ? ImageFs(snapshot.Timestamp) : null,
            Rlimit = full ? new RlimitStatsJson(now, node.MaxPid, node.CurrentProcesses) : null,
            Swap = full ? new SwapStatsJson(now, null, node.Memory.SwapBytes) : null,
        };

        var byPod = snapshot.Containers.ToLookup(c => c.SandboxId, StringComparer.Ordinal);
        var pods = new List<PodStatsJson>(snapshot.Pods.Count);
        foreach (var pod in snapshot.Pods)
        {
            var containers = byPod[pod.Id].Select(c => Container(c, rates, full, node.RootFs)).ToList();
            var volumes = full && _volumes is not null ? _volumes.For(pod.Uid) : [];
            // kubelet's ephemeral storage: the containers' writable layers and logs, and the pod's local volumes.
            ulong ephemeral = byPod[pod.Id].Aggregate(0UL, (sum, c) => sum + (c.WritableLayer?.UsedBytes ?? 0) + (c.Logs?.UsedBytes ?? 0))
                + volumes.Aggregate(0UL, (sum, v) => sum + v.UsedBytes);
            ulong inodes = byPod[pod.Id].Aggregate(0UL, (sum, c) => sum + (c.WritableLayer?.InodesUsed ?? 0) + (c.Logs?.InodesUsed ?? 0))
                + volumes.Aggregate(0UL, (sum, v) => sum + v.InodesUsed);
            pods.Add(new PodStatsJson
            {
                PodRef = new PodReferenceJson(pod.Name, pod.Namespace, pod.Uid),
                StartTime = Time(pod.CreatedAt),
                Containers = containers,
                Cpu = Cpu(pod.Cpu, pod.Timestamp, rates.TryGetValue(pod.Id, out var podRate) ? podRate : null),
                Memory = Memory(pod.Memory, pod.Timestamp, pod.Limits.MemoryLimitBytes is { } l && l > 0 ? (ulong)l : null),
                Network = full ? Network(pod.Network, pod.Timestamp) : null,
                Volume = volumes.Count == 0 ? null : volumes.Select(v => Volume(node.RootFs, v)).ToList(),
                EphemeralStorage = full ? WithCapacity(node.RootFs, pod.Timestamp, ephemeral, inodes) : null,
                ProcessStats = full ? new ProcessStatsJson(byPod[pod.Id].Aggregate(0UL, (sum, c) => sum + c.Processes)) : null,
                Swap = full ? new SwapStatsJson(Time(pod.Timestamp), null, pod.Memory.SwapBytes) : null,
            });
        }

        return new StatsSummary(nodeStats, pods);
    }

    private byte[] Render(RuntimeStatsSnapshot snapshot, bool full) =>
        JsonSerializer.SerializeToUtf8Bytes(Build(snapshot, full), SummaryJsonContext.Default.StatsSummary);

    /// <summary>usageNanoCores of the node (key ""), each pod and each container between the previous snapshot and this one.</summary>
    private Dictionary<string, ulong> Rates(RuntimeStatsSnapshot snapshot)
    {
        lock (_rates)
        {
            var current = new Dictionary<string, (ulong, DateTimeOffset)>(StringComparer.Ordinal) { [""] = (snapshot.Node.Cpu.UsageNanos, snapshot.Timestamp) };
            foreach (var p in snapshot.Pods)
            {
                current[p.Id] = (p.Cpu.UsageNanos, p.Timestamp);
            }

            foreach (var c in snapshot.Containers)
            {
                current[c.Id] = (c.Cpu.UsageNanos, c.Timestamp);
            }

            var rates = new Dictionary<string, ulong>(StringComparer.Ordinal);
            foreach (var (id, (nanos, at)) in current)
            {
                if (_previous.TryGetValue(id, out var prev) && at > prev.At && nanos >= prev.Nanos)
                {
                    rates[id] = (ulong)((nanos - prev.Nanos) / (at - prev.At).TotalSeconds);
                }
            }

            _previous = current;
            return rates;
        }
    }

    private static ContainerStatsJson Container(ContainerStats c, Dictionary<string, ulong> rates, bool full, FilesystemStats? rootFs) => new()
    {
        Name = c.Name,
        StartTime = Time(c.StartedAt),
        Cpu = Cpu(c.Cpu, c.Timestamp, rates.TryGetValue(c.Id, out var rate) ? rate : null),
        Memory = Memory(c.Memory, c.Timestamp, c.Limits.MemoryLimitBytes is { } l && l > 0 ? (ulong)l : null),
        Rootfs = full && c.WritableLayer is { } layer ? WithCapacity(rootFs, layer.Timestamp, layer.UsedBytes, layer.InodesUsed) : null,
        Logs = full && c.Logs is { } logs ? WithCapacity(rootFs, logs.Timestamp, logs.UsedBytes, logs.InodesUsed) : null,
        Swap = full ? new SwapStatsJson(Time(c.Timestamp), null, c.Memory.SwapBytes) : null,
    };

    private static VolumeStatsJson Volume(FilesystemStats? fs, VolumeUsage v) => new(WithCapacity(fs, v.At, v.UsedBytes, v.InodesUsed), v.Name);

    private static CpuStatsJson Cpu(CpuUsage cpu, DateTimeOffset at, ulong? nanoCores) =>
        new() { Time = Time(at), UsageCoreNanoSeconds = cpu.UsageNanos, UsageNanoCores = nanoCores };

    private static MemoryStatsJson Memory(MemoryUsage m, DateTimeOffset at, ulong? limit) => new()
    {
        Time = Time(at),
        AvailableBytes = limit is { } l ? (l > m.WorkingSetBytes ? l - m.WorkingSetBytes : 0) : null,
        UsageBytes = m.UsageBytes,
        WorkingSetBytes = m.WorkingSetBytes,
        RssBytes = m.RssBytes,
        PageFaults = m.PageFaults,
        MajorPageFaults = m.MajorPageFaults,
    };

    /// <summary>The first interface inline (kubelet's default interface, eth0 in a pod), then all of them.</summary>
    private static NetworkStatsJson? Network(IReadOnlyList<InterfaceStats> interfaces, DateTimeOffset at)
    {
        if (interfaces.Count == 0)
        {
            return null;
        }

        var first = interfaces.FirstOrDefault(i => i.Name == "eth0") ?? interfaces[0];
        return new NetworkStatsJson
        {
            Time = Time(at),
            Name = first.Name,
            RxBytes = first.RxBytes,
            RxErrors = first.RxErrors,
            TxBytes = first.TxBytes,
            TxErrors = first.TxErrors,
            Interfaces = [.. interfaces.Select(i => new InterfaceStatsJson(i.Name, i.RxBytes, i.RxErrors, i.TxBytes, i.TxErrors))],
        };
    }

    private static FsStatsJson? Fs(FilesystemStats? fs, DateTimeOffset at) => fs is null ? null : new FsStatsJson
    {
        Time = Time(at),
        AvailableBytes = fs.AvailableBytes,
        CapacityBytes = fs.CapacityBytes,
        UsedBytes = fs.UsedBytes,
        InodesFree = fs.InodesFree,
        Inodes = fs.Inodes,
        InodesUsed = fs.Inodes >= fs.InodesFree ? fs.Inodes - fs.InodesFree : 0,
    };

    /// <summary>A usage on the node's filesystem: kubelet reports that filesystem's capacity and free space beside it.</summary>
    private static FsStatsJson WithCapacity(FilesystemStats? fs, DateTimeOffset at, ulong used, ulong inodesUsed) => new()
    {
        Time = Time(at),
        AvailableBytes = fs?.AvailableBytes,
        CapacityBytes = fs?.CapacityBytes,
        UsedBytes = used,
        InodesFree = fs?.InodesFree,
        Inodes = fs?.Inodes,
        InodesUsed = inodesUsed,
    };

    private RuntimeStatsJson? ImageFs(DateTimeOffset at)
    {
        ImageFsInfo info;
        try
        {
            info = _images.ImageFsInfo();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ImageServiceException)
        {
            return null;
        }

        var fs = new FsStatsJson
        {
            Time = Time(at),
            AvailableBytes = (ulong)Math.Max(0, info.AvailableBytes),
            CapacityBytes = (ulong)Math.Max(0, info.CapacityBytes),
            UsedBytes = (ulong)Math.Max(0, info.UsedByImagesBytes),
        };
        return new RuntimeStatsJson(fs, fs);
    }

    /// <summary>metav1.Time's JSON form: RFC 3339 in UTC, whole seconds.</summary>
    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
