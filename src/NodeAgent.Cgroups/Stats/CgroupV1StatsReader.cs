using NodeAgent.Linux;
namespace NodeAgent.Cgroups.Stats;

/// <summary>
/// cgroup v1 counters: cpuacct.usage, cpu.stat, memory.usage_in_bytes/stat/failcnt/oom_control, pids.current,
/// cgroup.procs and the blkio throttle byte counters, each from its controller's hierarchy.
/// </summary>
internal sealed class CgroupV1StatsReader(IReadOnlyDictionary<string, string> controllerRoots, string rootPrefix) : ICgroupStatsReader
{
    private readonly InterfaceFiles _files = new();
    private readonly DeviceNames _devices = new();
    private readonly PathCache<Paths> _paths = new();

    private sealed record Paths(
        string? CpuacctUsage, string? CpuStat, string? MemoryUsage, string? MemoryStat, string? MemoryFailcnt,
        string? OomControl, string? PidsCurrent, string Procs, string? BlkioRecursive, string? Blkio);

    public string IdOf(string relativePath) => CgroupId.Of(rootPrefix, relativePath);

    public void Sweep() => _paths.Sweep();

    public bool TryRead(string relativePath, CgroupUsage usage, bool cfs = true)
    {
        var p = _paths.Get(relativePath, Build);
        usage.Reset();

        // cgroup.procs decides whether the group exists; a group removed after this read yields absent files below,
        // which is then reported as vanished too.
        if (!_files.TryRead(p.Procs, out var procs))
        {
            return false;
        }

        usage.Processes = InterfaceFiles.Lines(procs);
        if (p.CpuacctUsage is { } acct)
        {
            if (_files.ReadNumber(acct) is not { } cpu)
            {
                return false;
            }

            usage.CpuUsageNanos = cpu;
        }

        if (cfs && p.CpuStat is { } cpuStat && _files.TryRead(cpuStat, out var cs))
        {
            usage.CpuPeriods = InterfaceFiles.Keyed(cs, "nr_periods"u8);
            usage.CpuThrottledPeriods = InterfaceFiles.Keyed(cs, "nr_throttled"u8);
            usage.CpuThrottledNanos = InterfaceFiles.Keyed(cs, "throttled_time"u8);
        }

        if (p.MemoryUsage is { } mu)
        {
            if (_files.ReadNumber(mu) is not { } memory || !_files.TryRead(p.MemoryStat!, out var ms))
            {
                return false;
            }

            usage.MemoryUsageBytes = memory;
            var inactiveFile = InterfaceFiles.Keyed(ms, "total_inactive_file"u8);
            usage.MemoryWorkingSetBytes = memory > inactiveFile ? memory - inactiveFile : 0;
            usage.MemoryRssBytes = InterfaceFiles.Keyed(ms, "total_rss"u8);
            usage.MemoryCacheBytes = InterfaceFiles.Keyed(ms, "total_cache"u8);
            usage.MemorySwapBytes = InterfaceFiles.Keyed(ms, "total_swap"u8);
            usage.PageFaults = InterfaceFiles.Keyed(ms, "total_pgfault"u8);
            usage.MajorPageFaults = InterfaceFiles.Keyed(ms, "total_pgmajfault"u8);
            usage.MemoryFailcnt = _files.ReadNumber(p.MemoryFailcnt!) ?? 0;
            usage.OomKills = _files.TryRead(p.OomControl!, out var oom) ? InterfaceFiles.Keyed(oom, "oom_kill"u8) : 0;
        }

        if (p.PidsCurrent is { } pids)
        {
            usage.Threads = _files.ReadNumber(pids) ?? 0;
        }

        if ((p.BlkioRecursive is { } r && _files.TryRead(r, out var blkio)) || (p.Blkio is { } b && _files.TryRead(b, out blkio)))
        {
            ParseBlkio(blkio, usage.DeviceIo);
        }

        return true;
    }

    /// <summary>"MAJ:MIN Read N" / "MAJ:MIN Write N" lines (plus Sync, Async, Discard, Total and a final "Total N").</summary>
    private void ParseBlkio(ReadOnlySpan<byte> text, List<CgroupDeviceIo> into)
    {
        while (!text.IsEmpty)
        {
            int nl = text.IndexOf((byte)'\n');
            var line = nl < 0 ? text : text[..nl];
            text = nl < 0 ? default : text[(nl + 1)..];
            if (!InterfaceFiles.TryDevice(line, out uint major, out uint minor, out int used) || used >= line.Length)
            {
                continue;
            }

            var rest = line[(used + 1)..];
            int space = rest.IndexOf((byte)' ');
            if (space < 0 || !System.Buffers.Text.Utf8Parser.TryParse(rest[(space + 1)..], out ulong value, out _))
            {
                continue;
            }

            var op = rest[..space];
            bool read = op.SequenceEqual("Read"u8);
            if (!read && !op.SequenceEqual("Write"u8))
            {
                continue;
            }

            var name = _devices.Name(major, minor);
            int i = into.FindIndex(d => ReferenceEquals(d.Device, name));
            var entry = i >= 0 ? into[i] : new CgroupDeviceIo(name, 0, 0);
            entry = read ? entry with { ReadBytes = value } : entry with { WriteBytes = value };
            if (i >= 0)
            {
                into[i] = entry;
            }
            else
            {
                into.Add(entry);
            }
        }
    }

    private Paths Build(string relativePath)
    {
        string rel = V1.CgroupV1Manager.Normalize(relativePath);
        string? Dir(string controller) => controllerRoots.TryGetValue(controller, out var root) ? (rel.Length == 0 ? root : Path.Combine(root, rel)) : null;
        string? File(string controller, string file) => Dir(controller) is { } d ? Path.Combine(d, file) : null;
        var procsDir = Dir("pids") ?? Dir("memory") ?? Dir("cpuacct") ?? controllerRoots.Values.Select(r => rel.Length == 0 ? r : Path.Combine(r, rel)).First();
        return new Paths(
            File("cpuacct", "cpuacct.usage"),
            File("cpu", "cpu.stat"),
            File("memory", "memory.usage_in_bytes"),
            File("memory", "memory.stat"),
            File("memory", "memory.failcnt"),
            File("memory", "memory.oom_control"),
            File("pids", "pids.current"),
            Path.Combine(procsDir, "cgroup.procs"),
            File("blkio", "blkio.throttle.io_service_bytes_recursive"),
            File("blkio", "blkio.throttle.io_service_bytes"));
    }
}
