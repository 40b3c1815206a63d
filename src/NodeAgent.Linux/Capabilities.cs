using System.Runtime.InteropServices;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>Linux capabilities by name, and the calls that set a thread's sets.</summary>
public static class Capabilities
{
    private static readonly string[] Names =
    [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
        "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
        "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
        "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
        "CHECKPOINT_RESTORE",
    ];

    /// <summary>The default set of Docker and containerd for unprivileged containers.</summary>
    public static IReadOnlyList<string> DefaultSet { get; } =
    [
        "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP", "SETPCAP",
        "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
    ];

    public static IReadOnlyList<string> All => Names;

    /// <summary>Capability number for a name such as <c>NET_ADMIN</c> or <c>CAP_NET_ADMIN</c> (any case); -1 if unknown.</summary>
    public static int Parse(string name)
    {
        var n = name.Trim().ToUpperInvariant();
        if (n.StartsWith("CAP_", StringComparison.Ordinal))
        {
            n = n[4..];
        }

        return Array.IndexOf(Names, n);
    }

    public static string NameOf(int cap) => cap >= 0 && cap < Names.Length ? Names[cap] : $"CAP_{cap}";

    /// <summary>Highest capability number the running kernel knows (/proc/sys/kernel/cap_last_cap).</summary>
    public static int LastCap()
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return Names.Length - 1;
        }
    }

    /// <summary>
    /// The capabilities this process may hand to a container: its effective set within its bounding set, read from
    /// <c>/proc/self/status</c> (containerd's cap.Current takes the daemon's effective set the same way).
    /// </summary>
    public static ulong CurrentMask()
    {
        var status = File.ReadAllText("/proc/self/status");
        return StatusMask(status, "CapEff") & StatusMask(status, "CapBnd");
    }

    /// <summary>A capability mask field (<c>CapEff</c>, <c>CapBnd</c>…) of a <c>/proc/PID/status</c> text.</summary>
    /// <exception cref="InvalidDataException">The field is missing or not hexadecimal.</exception>
    public static ulong StatusMask(string status, string field)
    {
        foreach (var line in status.AsSpan().EnumerateLines())
        {
            if (line.StartsWith(field) && line.Length > field.Length && line[field.Length] == ':')
            {
                return ulong.TryParse(line[(field.Length + 1)..].Trim(), System.Globalization.NumberStyles.AllowHexSpecifier,
                    System.Globalization.CultureInfo.InvariantCulture, out var mask)
                    ? mask
                    : throw new InvalidDataException($"/proc/self/status: {field} is not a hexadecimal mask");
            }
        }

        throw new InvalidDataException($"/proc/self/status has no {field} line");
    }

    /// <summary>The names of the capabilities in <paramref name="mask"/>, lowest number first.</summary>
    public static IReadOnlyList<string> NamesOf(ulong mask) =>
        [.. Enumerable.Range(0, Names.Length).Where(c => (mask & (1UL << c)) != 0).Select(c => Names[c])];

    /// <summary>Drops every capability not in <paramref name="keep"/> from the bounding set of the calling thread.</summary>
    public static void DropBounding(ulong keep, int lastCap)
    {
        const int PR_CAPBSET_DROP = 24;
        for (var cap = 0; cap <= lastCap; cap++)
        {
            if ((keep & (1UL << cap)) == 0)
            {
                LinuxException.ThrowIfError(Libc.Prctl(PR_CAPBSET_DROP, (nuint)cap, 0, 0, 0), "prctl(PR_CAPBSET_DROP)", NameOf(cap));
            }
        }
    }

    /// <summary>Sets the effective, permitted and inheritable sets of the calling thread.</summary>
    public static unsafe void Set(ulong effective, ulong permitted, ulong inheritable)
    {
        const uint LINUX_CAPABILITY_VERSION_3 = 0x20080522;
        var header = stackalloc uint[2];
        header[0] = LINUX_CAPABILITY_VERSION_3;
        header[1] = 0;
        var data = stackalloc uint[6];
        data[0] = (uint)effective;
        data[1] = (uint)permitted;
        data[2] = (uint)inheritable;
        data[3] = (uint)(effective >> 32);
        data[4] = (uint)(permitted >> 32);
        data[5] = (uint)(inheritable >> 32);
        LinuxException.ThrowIfError(Libc.Syscall2(Libc.SYS_capset, (nint)header, (nint)data), "capset");
    }

    public static ulong ToMask(IEnumerable<string> names, out IReadOnlyList<string> unknown)
    {
        ulong mask = 0;
        var bad = new List<string>();
        foreach (var name in names)
        {
            if (name.Equals("ALL", StringComparison.OrdinalIgnoreCase))
            {
                mask |= ulong.MaxValue;
                continue;
            }

            var cap = Parse(name);
            if (cap < 0)
            {
                bad.Add(name);
            }
            else
            {
                mask |= 1UL << cap;
            }
        }

        unknown = bad;
        return mask;
    }
}
