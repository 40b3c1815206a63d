namespace NodeAgent.Cri;

/// <summary>
/// Signal names and numbers (Linux x86_64) for a container's stop signal: the image's <c>STOPSIGNAL</c> and the
/// container's <c>lifecycle.stopSignal</c>. Both are hostile input, parsed as containerd parses them (moby's
/// ParseSignal): a decimal number, or a name with or without <c>SIG</c> in any case (<c>SIGTERM</c>, <c>term</c>,
/// <c>15</c>), including the aliases <c>IOT</c>, <c>CLD</c>, <c>POLL</c> and the real-time forms <c>RTMIN</c>,
/// <c>RTMIN+n</c>, <c>RTMAX-n</c>, <c>RTMAX</c>. Stricter than containerd in one way: a number must name a signal
/// the kernel has (1–64); containerd would pass any other number on and let kill(2) fail at stop time.
/// </summary>
public static class Signals
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    /// <summary>The first and last real-time signals as the kernel numbers them (glibc reserves two more below).</summary>
    public const int SIGRTMIN = 34;
    public const int SIGRTMAX = 64;

    /// <summary>The longest text worth looking at (<c>SIGRTMIN+15</c> is 11 characters).</summary>
    private const int MaxLength = 16;

    private static readonly string[] Names =
    [
        "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM",
        "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF",
        "WINCH", "IO", "PWR", "SYS",
    ];

    private static readonly Dictionary<string, int> Aliases = new(StringComparer.Ordinal)
    {
        ["IOT"] = 6, ["CLD"] = 17, ["POLL"] = 29, ["UNUSED"] = 31,
    };

    /// <summary>Parses <c>SIGTERM</c>, <c>TERM</c> or <c>15</c>; null when empty or not a signal.</summary>
    public static int? Parse(string? signal)
    {
        if (string.IsNullOrEmpty(signal) || signal.Length > MaxLength)
        {
            return null;
        }

        if (signal.All(char.IsAsciiDigit))
        {
            return int.TryParse(signal, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
                && n is > 0 and <= SIGRTMAX ? n : null;
        }

        var name = signal.ToUpperInvariant();
        if (name.StartsWith("SIG", StringComparison.Ordinal))
        {
            name = name[3..];
        }

        var index = Array.IndexOf(Names, name);
        if (index > 0)
        {
            return index;
        }

        return Aliases.TryGetValue(name, out var alias) ? alias : RealTime(name);
    }

    /// <summary>The name of a signal number as kubelet's API writes it (<c>SIGTERM</c>, <c>SIGRTMIN+1</c>).</summary>
    public static string Name(int signal) => signal switch
    {
        > 0 and < 32 => "SIG" + Names[signal],
        SIGRTMIN => "SIGRTMIN",
        SIGRTMAX => "SIGRTMAX",
        > SIGRTMIN and <= SIGRTMIN + 15 => $"SIGRTMIN+{signal - SIGRTMIN}",
        > SIGRTMIN + 15 and < SIGRTMAX => $"SIGRTMAX-{SIGRTMAX - signal}",
        _ => signal.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    // RTMIN, RTMIN+1..RTMIN+15, RTMAX-14..RTMAX-1, RTMAX: the forms moby's signal map has.
    private static int? RealTime(string name)
    {
        if (name == "RTMIN")
        {
            return SIGRTMIN;
        }

        if (name == "RTMAX")
        {
            return SIGRTMAX;
        }

        if (name.Length is < 7 or > 8 || !name[6..].All(char.IsAsciiDigit) || name[6] == '0')
        {
            return null;
        }

        var offset = int.Parse(name[6..], System.Globalization.CultureInfo.InvariantCulture);
        return name[..6] switch
        {
            "RTMIN+" when offset <= 15 => SIGRTMIN + offset,
            "RTMAX-" when offset <= 14 => SIGRTMAX - offset,
            _ => null,
        };
    }
}
