using System.Collections.Concurrent;
using NodeAgent.Cgroups.Stats;
using NodeAgent.Cri;
using NodeAgent.Linux;
using NodeAgent.Runtime.Persistence;

namespace NodeAgent.Runtime.Stats;

/// <summary>
/// One share of a collection: its own cgroup reader (buffer and path cache) and scratch lists, so workers never share
/// mutable state; sandbox sockets come from the collector's map, each used by one worker at a time.
/// </summary>
internal sealed class CollectionWorker(ICgroupStatsReader reader, ConcurrentDictionary<string, LinkStatistics> podLinks)
{
    private readonly CgroupUsage _usage = new();
    private readonly List<LinkCounters> _links = [];

    public void Sweep() => reader.Sweep();

    public PodSandboxStats? ReadPod(SandboxRecord sandbox, DateTimeOffset now, List<string> errors)
    {
        if (!reader.TryRead(sandbox.Config.CgroupParent, _usage, cfs: sandbox.Config.PodResources.CpuQuotaMicros is > 0))
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
            CgroupName = reader.IdOf(sandbox.Config.CgroupParent),
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

    public ContainerStats? ReadContainer(ContainerRecord record, ContainerStatus status, DateTimeOffset now, (FsUsage? Layer, FsUsage? Logs) fs)
    {
        if (!reader.TryRead(record.CgroupPath, _usage, cfs: record.Config.Resources.CpuQuotaMicros is > 0))
        {
            return null; // removed while this collection ran
        }

        var (layer, logs) = fs;
        return new ContainerStats
        {
            Id = record.Id,
            SandboxId = record.SandboxId,
            Name = record.Config.Name,
            Image = record.ImageRef,
            CgroupName = reader.IdOf(record.CgroupPath),
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
            // One socket per sandbox, opened inside its namespace the first time; each sandbox is read by one worker per collection.
            var links = podLinks.GetOrAdd(sandbox.Id, _ => LinkStatistics.OpenIn(netns));

            links.Read(_links);
            return NodeReadings.Interfaces(_links, l => l.Name != "lo");
        }
        catch (Exception e) when (e is LinuxException or IOException)
        {
            errors.Add($"pod {sandbox.Config.Namespace}/{sandbox.Config.Name}: network interfaces of {netns}: {e.Message}");
            return [];
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
}
