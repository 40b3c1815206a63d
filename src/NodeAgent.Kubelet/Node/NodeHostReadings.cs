using System.Globalization;
using System.Runtime.InteropServices;

namespace NodeAgent.Kubelet.Node;

/// <summary>
/// Host facts from the files cadvisor reads: <c>/proc/cpuinfo</c>, <c>/proc/meminfo</c>, the hugepage pools under
/// <c>/sys/kernel/mm/hugepages</c>, <c>/etc/machine-id</c>, the DMI product UUID, the boot ID, the kernel release,
/// <c>/etc/os-release</c>; free space of the filesystem holding <paramref name="rootDir"/> (nodefs), the PID limit and
/// the tasks in use. A file that cannot be read gives an empty or zero value, never an exception: node status then
/// says what is missing.
/// </summary>
public sealed class NodeHostReadings(string rootDir, string procRoot = "/proc", string sysRoot = "/sys", string etcRoot = "/etc") : INodeHostReadings
{
    public NodeMachineInfo Machine()
    {
        var meminfo = MemInfo();
        return new NodeMachineInfo
        {
            Cpus = Cpus(),
            MemoryBytes = meminfo.GetValueOrDefault("MemTotal"),
            HugePages = HugePages(),
            MachineId = ReadTrimmed(Path.Combine(etcRoot, "machine-id")),
            SystemUuid = ReadTrimmed(Path.Combine(sysRoot, "class/dmi/id/product_uuid")).ToLowerInvariant(),
            BootId = ReadTrimmed(Path.Combine(procRoot, "sys/kernel/random/boot_id")),
            KernelVersion = ReadTrimmed(Path.Combine(procRoot, "sys/kernel/osrelease")),
            OsImage = OsImage(),
            Architecture = GoArch,
        };
    }

    /// <summary>This machine's architecture by Go's GOARCH name (amd64, arm64…), as node labels and nodeInfo name it.</summary>
    public static string GoArch => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        Architecture.Arm => "arm",
        Architecture.S390x => "s390x",
        Architecture.Ppc64le => "ppc64le",
        var other => other.ToString().ToLowerInvariant(),
    };

    public NodeResourceReadings Read()
    {
        var meminfo = MemInfo();
        long capacity = 0, available = 0;
        try
        {
            var drive = new DriveInfo(Directory.Exists(rootDir) ? rootDir : "/");
            capacity = drive.TotalSize;
            available = drive.AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
        }

        return new NodeResourceReadings
        {
            MemoryAvailableBytes = meminfo.GetValueOrDefault("MemAvailable"),
            NodeFsCapacityBytes = capacity,
            NodeFsAvailableBytes = available,
            PidMax = ParseLong(ReadTrimmed(Path.Combine(procRoot, "sys/kernel/pid_max"))),
            PidsInUse = TasksInUse(),
        };
    }

    private int Cpus()
    {
        var n = 0;
        foreach (var line in ReadLines(Path.Combine(procRoot, "cpuinfo")))
        {
            if (line.StartsWith("processor", StringComparison.Ordinal) && line.Contains(':'))
            {
                n++;
            }
        }

        return n > 0 ? n : Environment.ProcessorCount;
    }

    /// <summary>/proc/meminfo in bytes (the file's kB are KiB).</summary>
    private Dictionary<string, long> MemInfo()
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in ReadLines(Path.Combine(procRoot, "meminfo")))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }

            var parts = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length > 0 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v < long.MaxValue / 1024)
            {
                values[line[..colon]] = parts.Length > 1 && parts[1] == "kB" ? v * 1024 : v;
            }
        }

        return values;
    }

    private Dictionary<long, long> HugePages()
    {
        var pools = new Dictionary<long, long>();
        var dir = Path.Combine(sysRoot, "kernel/mm/hugepages");
        try
        {
            foreach (var d in Directory.EnumerateDirectories(dir, "hugepages-*kB"))
            {
                var name = Path.GetFileName(d);
                if (long.TryParse(name["hugepages-".Length..^2], NumberStyles.None, CultureInfo.InvariantCulture, out var kb) && kb is > 0 and < 1L << 40)
                {
                    var pages = ParseLong(ReadTrimmed(Path.Combine(d, "nr_hugepages")));
                    pools[kb * 1024] = pages is >= 0 and < 1L << 30 ? pages * kb * 1024 : 0;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return pools;
    }

    private string OsImage()
    {
        foreach (var line in ReadLines(Path.Combine(etcRoot, "os-release")))
        {
            if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
            {
                return line["PRETTY_NAME=".Length..].Trim().Trim('"');
            }
        }

        return "Linux";
    }

    /// <summary>Threads in use (pid.available counts tasks): the fourth field of /proc/loadavg, "running/total".</summary>
    private long TasksInUse()
    {
        var fields = ReadTrimmed(Path.Combine(procRoot, "loadavg")).Split(' ');
        if (fields.Length >= 4 && fields[3].Split('/') is [_, var total])
        {
            return ParseLong(total);
        }

        return 0;
    }

    private static long ParseLong(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;

    private static string ReadTrimmed(string path)
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

    private static IEnumerable<string> ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
