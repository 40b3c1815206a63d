namespace NodeAgent.Runtime;

/// <summary>Signal names and numbers (x86_64), for STOPSIGNAL and stop requests.</summary>
public static class Signals
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    private static readonly string[] Names =
    [
        "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM",
        "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF",
        "WINCH", "IO", "PWR", "SYS",
    ];

    /// <summary>Parses <c>SIGTERM</c>, <c>TERM</c> or <c>15</c>; null when empty or unknown.</summary>
    public static int? Parse(string? signal)
    {
        if (string.IsNullOrWhiteSpace(signal))
        {
            return null;
        }

        if (int.TryParse(signal, out var n))
        {
            return n is > 0 and < 65 ? n : null;
        }

        var name = signal.Trim().ToUpperInvariant();
        if (name.StartsWith("SIG", StringComparison.Ordinal))
        {
            name = name[3..];
        }

        var index = Array.IndexOf(Names, name);
        return index > 0 ? index : null;
    }
}
