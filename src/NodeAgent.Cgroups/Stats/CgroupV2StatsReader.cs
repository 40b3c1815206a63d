using NodeAgent.Linux;
using System.Buffers.Text;

namespace NodeAgent.Cgroups.Stats;

/// <summary>
/// cgroup v2 counters from one directory: cpu.stat, memory.current/stat/events/swap.current, pids.current,
/// cgroup.procs and io.stat.
/// </summary>
internal sealed class CgroupV2StatsReader(string root, string rootPrefix) : ICgroupStatsReader
{
    private readonly InterfaceFiles _files = new();
    private readonly DeviceNames _devices = new();
    private readonly PathCache<Paths> _paths = new();

    private sealed record Paths(
        string Procs, string CpuStat, string MemoryCurrent, string MemoryStat, string MemoryEvents, string SwapCurrent,
        string PidsCurrent, string IoStat);

    public string IdOf(string relativePath) => CgroupId.Of(rootPrefix, relativePath);

    public void Sweep() => _paths.Sweep();

    public bool TryRead(string relativePath, CgroupUsage usage, bool cfs = true)
    {
        var p = _paths.Get(relativePath, Build);
        usage.Reset();
        if (!_files.TryRead(p.Procs, out var procs))
        {
            return false;
        }

        usage.Processes = InterfaceFiles.Lines(procs);
        if (!_files.TryRead(p.CpuStat, out var cs))
        {
            return false;
        }

        usage.CpuUsageNanos = InterfaceFiles.Keyed(cs, "usage_usec"u8) * 1000;
        usage.CpuPeriods = InterfaceFiles.Keyed(cs, "nr_periods"u8);
        usage.CpuThrottledPeriods = InterfaceFiles.Keyed(cs, "nr_throttled"u8);
        usage.CpuThrottledNanos = InterfaceFiles.Keyed(cs, "throttled_usec"u8) * 1000;

        // The root of a v2 hierarchy has no memory.current: its memory is the host's, read elsewhere.
        if (_files.ReadNumber(p.MemoryCurrent) is { } memory && _files.TryRead(p.MemoryStat, out var ms))
        {
            usage.MemoryUsageBytes = memory;
            var inactiveFile = InterfaceFiles.Keyed(ms, "inactive_file"u8);
            usage.MemoryWorkingSetBytes = memory > inactiveFile ? memory - inactiveFile : 0;
            usage.MemoryRssBytes = InterfaceFiles.Keyed(ms, "anon"u8);
            usage.MemoryCacheBytes = InterfaceFiles.Keyed(ms, "file"u8);
            usage.PageFaults = InterfaceFiles.Keyed(ms, "pgfault"u8);
            usage.MajorPageFaults = InterfaceFiles.Keyed(ms, "pgmajfault"u8);
        }

        if (_files.TryRead(p.MemoryEvents, out var events))
        {
            usage.MemoryFailcnt = InterfaceFiles.Keyed(events, "max"u8);
            usage.OomKills = InterfaceFiles.Keyed(events, "oom_kill"u8);
        }

        usage.MemorySwapBytes = _files.ReadNumber(p.SwapCurrent) ?? 0;
        usage.Threads = _files.ReadNumber(p.PidsCurrent) ?? 0;
        if (_files.TryRead(p.IoStat, out var io))
        {
            ParseIoStat(io, usage.DeviceIo);
        }

        return true;
    }

    /// <summary>"MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" lines.</summary>
    private void ParseIoStat(ReadOnlySpan<byte> text, List<CgroupDeviceIo> into)
    {
        while (!text.IsEmpty)
        {
            int nl = text.IndexOf((byte)'\n');
            var line = nl < 0 ? text : text[..nl];
            text = nl < 0 ? default : text[(nl + 1)..];
            if (!InterfaceFiles.TryDevice(line, out uint major, out uint minor, out int used))
            {
                continue;
            }

            ulong read = 0, write = 0;
            var fields = line[used..];
            while (!fields.IsEmpty)
            {
                fields = fields.TrimStart((byte)' ');
                int end = fields.IndexOf((byte)' ');
                var field = end < 0 ? fields : fields[..end];
                fields = end < 0 ? default : fields[end..];
                int eq = field.IndexOf((byte)'=');
                if (eq > 0 && Utf8Parser.TryParse(field[(eq + 1)..], out ulong v, out _))
                {
                    if (field[..eq].SequenceEqual("rbytes"u8))
                    {
                        read = v;
                    }
                    else if (field[..eq].SequenceEqual("wbytes"u8))
                    {
                        write = v;
                    }
                }
            }

            into.Add(new CgroupDeviceIo(_devices.Name(major, minor), read, write));
        }
    }

    private Paths Build(string relativePath)
    {
        string rel = V1.CgroupV1Manager.Normalize(relativePath);
        string dir = rel.Length == 0 ? root : Path.Combine(root, rel);
        return new Paths(
            Path.Combine(dir, "cgroup.procs"), Path.Combine(dir, "cpu.stat"), Path.Combine(dir, "memory.current"),
            Path.Combine(dir, "memory.stat"), Path.Combine(dir, "memory.events"), Path.Combine(dir, "memory.swap.current"),
            Path.Combine(dir, "pids.current"), Path.Combine(dir, "io.stat"));
    }
}
