using System.Runtime.InteropServices;

namespace NodeAgent.Registry.Distribution;

/// <summary>
/// Chooses the manifest for this node from an index, as containerd's default platform matcher does: same OS and
/// architecture; for amd64 a variant the CPU can run (v1…v4 by its flags), the highest such variant preferred,
/// a manifest without variant counting as the baseline.
/// </summary>
public sealed class PlatformMatcher(string os, string architecture, int amd64Level)
{
    public static PlatformMatcher Host { get; } = new("linux", HostArchitecture(), Amd64Level());

    public string Os { get; } = os;

    public string Architecture { get; } = architecture;

    public override string ToString() => Architecture == "amd64" ? $"{Os}/{Architecture}/v{amd64Level}" : $"{Os}/{Architecture}";

    /// <summary>A rank (higher is better) when the platform can run here, null when it cannot.</summary>
    public int? Rank(string? os, string? architecture, string? variant)
    {
        if (os != Os || architecture != Architecture)
        {
            return null;
        }
        if (Architecture != "amd64")
        {
            return 1;
        }
        var level = variant switch
        {
            null or "" or "v1" => 1,
            "v2" => 2,
            "v3" => 3,
            "v4" => 4,
            _ => 99,
        };
        return level <= amd64Level ? level : null;
    }

    private static string HostArchitecture() => RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.Arm => "arm",
        System.Runtime.InteropServices.Architecture.X86 => "386",
        var other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>The x86-64 micro-architecture level from <c>/proc/cpuinfo</c>'s flags (1 when unknown).</summary>
    internal static int Amd64Level(string? cpuinfo = null)
    {
        try
        {
            cpuinfo ??= File.ReadAllText("/proc/cpuinfo");
        }
        catch (IOException)
        {
            return 1;
        }
        var line = cpuinfo.Split('\n').FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
        if (line is null)
        {
            return 1;
        }
        var flags = line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        bool Has(params string[] f) => f.All(flags.Contains);
        if (!Has("cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"))
        {
            return 1;
        }
        if (!Has("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"))
        {
            return 2;
        }
        return Has("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl") ? 4 : 3;
    }
}
