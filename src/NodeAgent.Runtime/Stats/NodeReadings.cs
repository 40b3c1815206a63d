using System.Buffers.Text;
using System.Globalization;
using NodeAgent.Cri;
using NodeAgent.Linux;

namespace NodeAgent.Runtime.Stats;

/// <summary>
/// The node's readings from /proc (CPU time from /proc/stat, memory from /proc/meminfo, tasks from /proc/loadavg,
/// kernel.pid_max), the host's interfaces through rtnetlink and statvfs of the state directory; the machine's
/// description once. Not thread-safe (one collector).
/// </summary>
internal sealed class NodeReadings(string rootDir) : IDisposable
{
    private const ulong NanosPerTick = 10_000_000; // USER_HZ is 100 on Linux
    private readonly InterfaceFiles _files = new();
    private readonly List<LinkCounters> _links = [];
    private LinkStatistics? _hostLinks;
    private MachineInfo? _machine;
    private string? _rootDevice;

    public MachineInfo Machine() => _machine ??= new MachineInfo(
        CountCpus(ReadText("/sys/devices/system/cpu/online")),
        _files.TryRead("/proc/meminfo", out var meminfo) ? Kb(meminfo, "MemTotal:"u8) : 0,
        ReadText("/proc/sys/kernel/random/boot_id"),
        ReadText("/etc/machine-id"),
        ReadText("/sys/class/dmi/id/product_uuid"));

    public NodeStats Read(List<string> errors)
    {
        ulong cpu = 0;
        if (_files.TryRead("/proc/stat", out var stat))
        {
            // "cpu  user nice system idle iowait irq softirq steal guest guest_nice": busy = all but idle, iowait and guest (counted in user).
            int nl = stat.IndexOf((byte)'\n');
            var line = nl < 0 ? stat : stat[..nl];
            int field = 0;
            foreach (var range in line.Split((byte)' '))
            {
                var token = line[range];
                if (token.IsEmpty || !Utf8Parser.TryParse(token, out ulong v, out _))
                {
                    continue;
                }

                if (field is 0 or 1 or 2 or 5 or 6 or 7)
                {
                    cpu += v;
                }

                field++;
            }
        }

        _files.TryRead("/proc/meminfo", out var mi);
        ulong total = Kb(mi, "MemTotal:"u8), free = Kb(mi, "MemFree:"u8), available = Kb(mi, "MemAvailable:"u8);
        ulong inactiveFile = Kb(mi, "Inactive(file):"u8), buffers = Kb(mi, "Buffers:"u8), cached = Kb(mi, "Cached:"u8);
        ulong swapTotal = Kb(mi, "SwapTotal:"u8), swapFree = Kb(mi, "SwapFree:"u8);
        ulong usage = total > free ? total - free : 0;
        var memory = new MemoryUsage
        {
            UsageBytes = usage,
            WorkingSetBytes = usage > inactiveFile ? usage - inactiveFile : 0,
            CacheBytes = buffers + cached,
            RssBytes = usage > buffers + cached ? usage - buffers - cached : 0,
            SwapBytes = swapTotal > swapFree ? swapTotal - swapFree : 0,
        };

        return new NodeStats
        {
            Cpu = new CpuUsage(cpu * NanosPerTick, 0, 0, 0),
            Memory = memory,
            MemoryAvailableBytes = available,
            Network = HostNetwork(errors),
            RootFs = RootFs(errors),
            MaxPid = _files.ReadNumber("/proc/sys/kernel/pid_max") ?? 0,
            CurrentProcesses = Tasks(),
            BootTime = BootTime(),
        };
    }

    /// <summary>Interfaces of the host namespace, without loopback and pod veths (cAdvisor ignores those for the machine).</summary>
    private IReadOnlyList<InterfaceStats> HostNetwork(List<string> errors)
    {
        try
        {
            _hostLinks ??= LinkStatistics.OpenHere();
            _hostLinks.Read(_links);
        }
        catch (LinuxException e)
        {
            errors.Add($"node network interfaces: {e.Message}");
            return [];
        }

        return Interfaces(_links, l => l.Name != "lo" && !l.Name.StartsWith("veth", StringComparison.Ordinal));
    }

    public static List<InterfaceStats> Interfaces(List<LinkCounters> links, Func<LinkCounters, bool> keep)
    {
        var result = new List<InterfaceStats>(links.Count);
        foreach (var l in links)
        {
            if (keep(l))
            {
                result.Add(new InterfaceStats(l.Name, l.RxBytes, l.RxPackets, l.RxErrors, l.RxDropped, l.TxBytes, l.TxPackets, l.TxErrors, l.TxDropped));
            }
        }

        return result;
    }

    private FilesystemStats? RootFs(List<string> errors)
    {
        try
        {
            var path = Directory.Exists(rootDir) ? rootDir : "/";
            var fs = DiskUsage.Filesystem(path);
            _rootDevice ??= DeviceName(path);
            return new FilesystemStats(_rootDevice, path, fs.CapacityBytes, fs.AvailableBytes, fs.CapacityBytes - fs.FreeBytes, fs.Inodes, fs.InodesFree);
        }
        catch (LinuxException e)
        {
            errors.Add($"node filesystem: {e.Message}");
            return null;
        }
    }

    /// <summary>The block device holding <paramref name="path"/> as cAdvisor names it (<c>/dev/sda1</c>), or MAJOR:MINOR.</summary>
    public static string DeviceName(string path)
    {
        var (major, minor) = DiskUsage.DeviceOf(path);
        var number = string.Create(CultureInfo.InvariantCulture, $"{major}:{minor}");
        try
        {
            foreach (var line in File.ReadLines($"/sys/dev/block/{number}/uevent"))
            {
                if (line.StartsWith("DEVNAME=", StringComparison.Ordinal) && line.Length > 8)
                {
                    return "/dev/" + line[8..];
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not a block device (overlay, tmpfs): the number names it.
        }

        return number;
    }

    /// <summary>The "running/total" field of /proc/loadavg: total is the number of tasks, as sysinfo's procs.</summary>
    private ulong Tasks()
    {
        if (!_files.TryRead("/proc/loadavg", out var text))
        {
            return 0;
        }

        int slash = text.IndexOf((byte)'/');
        return slash > 0 && Utf8Parser.TryParse(text[(slash + 1)..], out ulong total, out _) ? total : 0;
    }

    private DateTimeOffset BootTime()
    {
        if (_files.TryRead("/proc/uptime", out var text) && Utf8Parser.TryParse(text, out double seconds, out _))
        {
            return DateTimeOffset.UtcNow - TimeSpan.FromSeconds(seconds);
        }

        return DateTimeOffset.UnixEpoch;
    }

    /// <summary>A /proc/meminfo value ("Key:   123 kB") in bytes, or 0.</summary>
    private static ulong Kb(ReadOnlySpan<byte> meminfo, ReadOnlySpan<byte> key)
    {
        int at = meminfo.IndexOf(key);
        while (at > 0 && meminfo[at - 1] != (byte)'\n')
        {
            int next = meminfo[(at + 1)..].IndexOf(key);
            at = next < 0 ? -1 : at + 1 + next;
        }

        if (at < 0)
        {
            return 0;
        }

        var rest = meminfo[(at + key.Length)..].TrimStart((byte)' ');
        return Utf8Parser.TryParse(rest, out ulong v, out _) ? v * 1024 : 0;
    }

    private static string ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>Counts CPUs in a list such as "0-3,6,8-9".</summary>
    internal static int CountCpus(string list)
    {
        int count = 0;
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var bounds = part.Split('-');
            if (bounds.Length == 1 && int.TryParse(bounds[0], CultureInfo.InvariantCulture, out _))
            {
                count++;
            }
            else if (bounds.Length == 2 && int.TryParse(bounds[0], CultureInfo.InvariantCulture, out int lo)
                && int.TryParse(bounds[1], CultureInfo.InvariantCulture, out int hi) && hi >= lo)
            {
                count += hi - lo + 1;
            }
        }

        return count > 0 ? count : Environment.ProcessorCount;
    }

    public void Dispose() => _hostLinks?.Dispose();
}
