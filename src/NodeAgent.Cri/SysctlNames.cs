using System.Text.RegularExpressions;

namespace NodeAgent.Cri;

/// <summary>The kernel namespace a sysctl lives in, as kubelet knows them.</summary>
public enum SysctlNamespace
{
    /// <summary>Not known to be namespaced: a node-wide parameter no pod may set.</summary>
    Unknown,
    Ipc,
    Net,
}

/// <summary>
/// Sysctl names as Kubernetes reads them: the API server's name and pattern rules (IsValidSysctlName,
/// IsValidSysctlPattern), the slash form (<c>net/ipv4/conf/eth0.100/rp_filter</c> is
/// <c>net.ipv4.conf.eth0/100.rp_filter</c>), kubelet's namespace grouping (<c>kernel.shm*</c>, <c>kernel.msg*</c>,
/// <c>kernel.sem</c>, <c>fs.mqueue.*</c>: IPC; <c>net.*</c>: network) and the value check the runtime applies
/// before it writes one.
/// </summary>
public static partial class SysctlNames
{
    public const int MaxLength = 253;

    /// <summary>A value longer than a page is refused by the kernel anyway.</summary>
    public const int MaxValueLength = 4096;

    /// <summary>The name rule as the API server prints it in its error.</summary>
    public const string NameRegex = @"^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$";

    /// <summary>The pattern rule (a trailing <c>*</c> allowed) as kubelet prints it.</summary>
    public const string PatternRegex = @"^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]$";

    public static bool IsValidName(string name) => name.Length <= MaxLength && NameExpression().IsMatch(name);

    public static bool IsValidPattern(string pattern) => pattern.Length <= MaxLength && PatternExpression().IsMatch(pattern);

    /// <summary>kubelet's ConvertSysctlVariableToDotsSeparator: a name whose first separator is <c>/</c> has its
    /// <c>/</c> and <c>.</c> swapped; a dotted name is returned as it is.</summary>
    public static string ToDotted(string name)
    {
        var first = name.IndexOfAny(['.', '/']);
        if (first < 0 || name[first] == '.')
        {
            return name;
        }

        return string.Create(name.Length, name, static (span, n) =>
        {
            for (var i = 0; i < n.Length; i++)
            {
                span[i] = n[i] switch { '.' => '/', '/' => '.', var c => c };
            }
        });
    }

    /// <summary>kubelet's NamespacedBy, for a dotted name (or the prefix of a pattern).</summary>
    public static SysctlNamespace NamespaceOf(string dotted) =>
        dotted == "kernel.sem" ? SysctlNamespace.Ipc
        : dotted.StartsWith("kernel.shm", StringComparison.Ordinal) || dotted.StartsWith("kernel.msg", StringComparison.Ordinal)
          || dotted.StartsWith("fs.mqueue.", StringComparison.Ordinal) ? SysctlNamespace.Ipc
        : dotted.StartsWith("net.", StringComparison.Ordinal) ? SysctlNamespace.Net
        : SysctlNamespace.Unknown;

    /// <summary>
    /// Why the runtime must not write <paramref name="value"/> to <paramref name="dotted"/> in a sandbox with these
    /// host namespaces, or null. A value is printable ASCII (tab allowed, as between the numbers of a range), at most
    /// a page; the name must be valid and namespaced, and its namespace the sandbox's own.
    /// </summary>
    public static string? CheckForSandbox(string dotted, string value, bool hostNetwork, bool hostIpc)
    {
        if (!IsValidName(dotted))
        {
            return $"sysctl {Quote(dotted)}: not a valid sysctl name";
        }

        if (value.Length > MaxValueLength || value.Any(c => c is not ('\t' or (>= ' ' and <= '~'))))
        {
            return $"sysctl {dotted}: the value must be at most {MaxValueLength} printable ASCII characters";
        }

        return NamespaceOf(dotted) switch
        {
            SysctlNamespace.Net when hostNetwork => $"sysctl {dotted}: not allowed with host net enabled",
            SysctlNamespace.Ipc when hostIpc => $"sysctl {dotted}: not allowed with host ipc enabled",
            SysctlNamespace.Unknown => $"sysctl {dotted}: not known to be namespaced",
            _ => null,
        };
    }

    private static string Quote(string s)
    {
        var shown = s.Length > 64 ? s[..64] : s;
        var text = string.Concat(shown.Select(c => c is >= ' ' and <= '~' and not '"' and not '\\' ? c.ToString() : $"\\u{(int)c:x4}"));
        return $"\"{text}{(s.Length > 64 ? "..." : "")}\"";
    }

    // Go's $ is the end of the text; .NET's also matches before a final newline, hence \z.
    [GeneratedRegex(@"^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?\z", RegexOptions.CultureInvariant)]
    private static partial Regex NameExpression();

    [GeneratedRegex(@"^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]\z", RegexOptions.CultureInvariant)]
    private static partial Regex PatternExpression();
}
