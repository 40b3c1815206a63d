using NodeAgent.Cgroups;
using NodeAgent.Cgroups.Stats;
using NodeAgent.Cri;
using NodeAgent.Images;
using NodeAgent.Linux;
using NodeAgent.Runtime.Persistence;

namespace NodeAgent.Runtime.Stats;

/// <summary>
/// The runtime's stats service (<see cref="IRuntimeStats"/>): one collection at a time, kept for
/// <see cref="RuntimeStatsOptions.MaxAge"/> and shared by every caller. A collection reads each running container's
/// and each ready sandbox's cgroup (one reusable buffer, cached paths), each sandbox's interfaces through a netlink
/// socket opened once inside its namespace, and the node's /proc files; writable-layer and log usage come from a
/// background measurement every <see cref="RuntimeStatsOptions.FilesystemInterval"/>. A container or sandbox that
/// vanishes mid-read is left out and the snapshot stays valid.
/// </summary>
public sealed class RuntimeStatsCollector : IRuntimeStats, IDisposable
{
    private readonly LinuxRuntimeService _runtime;
    private readonly ICgroupStatsReader? _cgroups;
    private readonly ISnapshotter _snapshotter;
    private readonly RuntimeStatsOptions _options;
    private readonly TimeProvider _time;
    private readonly NodeReadings _node;
    private readonly SemaphoreSlim _collecting = new(1, 1);
    private readonly CgroupUsage _usage = new();
    private readonly List<LinkCounters> _links = [];
    private readonly Dictionary<string, LinkStatistics> _podLinks = new(StringComparer.Ordinal);
    private readonly FilesystemUsageCache _fs;
    private readonly CancellationTokenSource _stop = new();
    private RuntimeStatsSnapshot? _current;
    private Task? _fsLoop;

    public RuntimeStatsCollector(LinuxRuntimeService runtime, ICgroupManager? cgroups, ISnapshotter snapshotter, string rootDir, RuntimeStatsOptions? options = null, TimeProvider? time = null)
    {
        _runtime = runtime;
        _cgroups = cgroups?.CreateStatsReader();
        _snapshotter = snapshotter;
        _options = options ?? new RuntimeStatsOptions();
        _time = time ?? TimeProvider.System;
        _node = new NodeReadings(rootDir);
        _fs = new FilesystemUsageCache(rootDir, _time);
    }

    public async ValueTask<RuntimeStatsSnapshot> SnapshotAsync(CancellationToken cancellationToken)
    {
        if (Fresh(_current) is { } cached)
        {
            return cached;
        }

        await _collecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another caller may have collected while this one waited.
            if (Fresh(_current) is { } again)
            {
                return again;
            }

            _fsLoop ??= Task.Run(() => MeasureFilesystemsLoopAsync(_stop.Token), CancellationToken.None);
            var snapshot = Collect();
            Volatile.Write(ref _current, snapshot);
            return snapshot;
        }
        finally
        {
            _collecting.Release();
        }
    }

    /// <summary>Measures every running container's writable layer and logs now (the background loop does this every interval).</summary>
    public Task RefreshFilesystemUsageAsync(CancellationToken cancellationToken) =>
        Task.Run(() => _fs.Measure(Targets(), cancellationToken), cancellationToken);

    private RuntimeStatsSnapshot? Fresh(RuntimeStatsSnapshot? s) =>
        s is not null && _time.GetUtcNow() - s.Timestamp < _options.MaxAge ? s : null;

    private RuntimeStatsSnapshot Collect()
    {
        var now = _time.GetUtcNow();
        var errors = new List<string>();
        var (sandboxes, containers) = _runtime.StatsTargets();
        var pods = new List<PodSandboxStats>(sandboxes.Count);
        foreach (var sandbox in sandboxes)
        {
            if (ReadPod(sandbox, now, errors) is { } pod)
            {
                pods.Add(pod);
            }
        }

        var byId = sandboxes.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var result = new List<ContainerStats>(containers.Count);
        foreach (var (record, status) in containers)
        {
            if (byId.ContainsKey(record.SandboxId) && ReadContainer(record, status, now) is { } stats)
            {
                result.Add(stats);
            }
        }

        ForgetGoneSandboxes(byId);
        _cgroups?.Sweep();
        return new RuntimeStatsSnapshot
        {
            Timestamp = now,
            Machine = _node.Machine(),
            Node = _node.Read(errors),
            Pods = pods,
            Containers = result,
            Errors = errors,
        };
    }

    private PodSandboxStats? ReadPod(SandboxRecord sandbox, DateTimeOffset now, List<string> errors)
    {
        if (_cgroups is null || !_cgroups.TryRead(sandbox.Config.CgroupParent, _usage))
        {
            return null; // no cgroup (any more): the sandbox is being removed
        }

        var cpu = Cpu(_usage);
        var memory = Memory(_usage);
        var io = Io(_usage);
        ulong processes = _usage.Processes, threads = _usage.Threads;
        return new PodSandboxStats
        {
            Id = sandbox.Id,
            Name = sandbox.Config.Name,
            Namespace = sandbox.Config.Namespace,
            Uid = sandbox.Config.Uid,
            CgroupName = _cgroups.IdOf(sandbox.Config.CgroupParent),
            CreatedAt = sandbox.CreatedAt,
            Cpu = cpu,
            Memory = memory,
            Processes = processes,
            Threads = threads,
            DiskIo = io,
            Network = PodNetwork(sandbox, errors),
            Limits = sandbox.Config.PodResources,
            Timestamp = now,
        };
    }

    private ContainerStats? ReadContainer(ContainerRecord record, ContainerStatus status, DateTimeOffset now)
    {
        if (_cgroups is null || !_cgroups.TryRead(record.CgroupPath, _usage))
        {
            return null; // removed while this collection ran
        }

        var (layer, logs) = _fs.Get(record.Id);
        return new ContainerStats
        {
            Id = record.Id,
            SandboxId = record.SandboxId,
            Name = record.Config.Name,
            Image = record.ImageRef,
            CgroupName = _cgroups.IdOf(record.CgroupPath),
            StartedAt = status.StartedAt ?? status.CreatedAt,
            CreatedAt = status.CreatedAt,
            Cpu = Cpu(_usage),
            Memory = Memory(_usage),
            Processes = _usage.Processes,
            Threads = _usage.Threads,
            DiskIo = Io(_usage),
            WritableLayer = layer,
            Logs = logs,
            Limits = record.Config.Resources,
            Timestamp = now,
        };
    }

    /// <summary>The sandbox's interfaces but loopback; none for hostNetwork pods (their traffic is the node's).</summary>
    private IReadOnlyList<InterfaceStats> PodNetwork(SandboxRecord sandbox, List<string> errors)
    {
        if (sandbox.Config.HostNetwork || sandbox.NamespacePaths.GetValueOrDefault("net") is not { Length: > 0 } netns)
        {
            return [];
        }

        try
        {
            if (!_podLinks.TryGetValue(sandbox.Id, out var links))
            {
                links = LinkStatistics.OpenIn(netns);
                _podLinks[sandbox.Id] = links;
            }

            links.Read(_links);
            return NodeReadings.Interfaces(_links, l => l.Name != "lo");
        }
        catch (Exception e) when (e is LinuxException or IOException)
        {
            errors.Add($"pod {sandbox.Config.Namespace}/{sandbox.Config.Name}: network interfaces of {netns}: {e.Message}");
            return [];
        }
    }

    private void ForgetGoneSandboxes(Dictionary<string, SandboxRecord> live)
    {
        foreach (var id in _podLinks.Keys.Where(id => !live.ContainsKey(id)).ToList())
        {
            _podLinks[id].Dispose();
            _podLinks.Remove(id);
        }
    }

    private static CpuUsage Cpu(CgroupUsage u) => new(u.CpuUsageNanos, u.CpuPeriods, u.CpuThrottledPeriods, u.CpuThrottledNanos);

    private static MemoryUsage Memory(CgroupUsage u) => new()
    {
        UsageBytes = u.MemoryUsageBytes,
        WorkingSetBytes = u.MemoryWorkingSetBytes,
        RssBytes = u.MemoryRssBytes,
        CacheBytes = u.MemoryCacheBytes,
        SwapBytes = u.MemorySwapBytes,
        Failcnt = u.MemoryFailcnt,
        PageFaults = u.PageFaults,
        MajorPageFaults = u.MajorPageFaults,
        OomKills = u.OomKills,
    };

    private static IReadOnlyList<DiskIoStats> Io(CgroupUsage u) =>
        u.DeviceIo.Count == 0 ? [] : u.DeviceIo.ConvertAll(d => new DiskIoStats(d.Device, d.ReadBytes, d.WriteBytes));

    private List<FilesystemUsageCache.Target> Targets() =>
        _runtime.StatsTargets().Containers
            .Select(c => new FilesystemUsageCache.Target(c.Record.Id, _snapshotter.WritableLayerPath(c.Record.Id), Path.GetDirectoryName(c.Status.LogPath)))
            .ToList();

    private async Task MeasureFilesystemsLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.FilesystemInterval, _time);
        do
        {
            try
            {
                _fs.Measure(Targets(), cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or LinuxException)
            {
                // One bad walk never ends the loop; the next interval tries again.
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _fsLoop?.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
            // Cancelled.
        }

        foreach (var links in _podLinks.Values)
        {
            links.Dispose();
        }

        _node.Dispose();
        _stop.Dispose();
        _collecting.Dispose();
    }
}
