using NodeAgent.Linux;

namespace NodeAgent.Runtime.Seccomp;

/// <summary>
/// Turns a profile document into the filter for one container, as Docker's and containerd's profile loading do:
/// the architectures (<c>architectures</c>, or the <c>archMap</c> entry of the native architecture with its
/// sub-architectures), then each syscall entry kept or dropped by its <c>excludes</c> (any listed capability held,
/// the architecture listed, or the kernel at least <c>minKernel</c>) and <c>includes</c> (every listed capability
/// held, the architecture listed, the kernel at least <c>minKernel</c>), and the actions with runc's errno defaults
/// (EPERM when <c>errnoRet</c>/<c>defaultErrnoRet</c> is absent). Capabilities are the container's bounding set.
/// </summary>
public static class SeccompProfileEvaluator
{
    /// <exception cref="InvalidDataException">The document is not a profile this runtime can apply; the message says why.</exception>
    public static SeccompFilterSpec Evaluate(SeccompProfileDocument profile, IEnumerable<string> capabilities, SeccompPlatform platform)
    {
        var caps = capabilities.Select(c => c.StartsWith("CAP_", StringComparison.OrdinalIgnoreCase) ? c.ToUpperInvariant() : "CAP_" + c.ToUpperInvariant())
            .ToHashSet(StringComparer.Ordinal);
        if (profile.ListenerPath is { Length: > 0 })
        {
            throw new InvalidDataException("seccomp listenerPath (SCMP_ACT_NOTIFY agents) is not supported");
        }

        if (profile.Flags is { Count: > 0 } flags)
        {
            throw new InvalidDataException($"seccomp flags are not supported: {string.Join(", ", flags)}");
        }

        var defaultAction = Action(profile.DefaultAction ?? throw new InvalidDataException("seccomp profile has no defaultAction"), profile.DefaultErrnoRet);
        var rules = new List<SeccompRule>();
        var i = 0;
        foreach (var entry in profile.Syscalls ?? [])
        {
            var where = $"syscalls[{i++}]";
            if (entry is null)
            {
                throw new InvalidDataException($"seccomp profile {where}: null entry");
            }

            if (!Applies(entry, caps, platform))
            {
                continue;
            }

            var names = Names(entry, where);
            var conditions = (entry.Args ?? []).Select(a => new SeccompCondition(a.Index, Operator(a.Op, where), a.Value, a.ValueTwo)).ToList();
            if (conditions.Any(c => c.Index > 5))
            {
                throw new InvalidDataException($"seccomp profile {where}: argument index past 5");
            }

            rules.Add(new SeccompRule(names, Action(entry.Action ?? throw new InvalidDataException($"seccomp profile {where}: no action"), entry.ErrnoRet), conditions));
        }

        return new SeccompFilterSpec(defaultAction, Architectures(profile, platform), rules);
    }

    private static List<string> Architectures(SeccompProfileDocument profile, SeccompPlatform platform)
    {
        if (profile.Architectures is { Count: > 0 } && profile.ArchMap is { Count: > 0 })
        {
            throw new InvalidDataException("both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
        }

        var arches = new List<string>(profile.Architectures ?? []);
        foreach (var map in profile.ArchMap ?? [])
        {
            if (map.Architecture == platform.NativeArch)
            {
                arches.Add(map.Architecture);
                arches.AddRange(map.SubArchitectures ?? []);
            }
        }

        return arches.Select(LibseccompArch).Distinct().ToList();
    }

    /// <summary><c>SCMP_ARCH_X86_64</c> → libseccomp's <c>x86_64</c>.</summary>
    private static string LibseccompArch(string arch) =>
        arch.StartsWith("SCMP_ARCH_", StringComparison.Ordinal) && arch.Length > 10
            ? arch[10..].ToLowerInvariant()
            : throw new InvalidDataException($"seccomp profile: unknown architecture \"{arch}\"");

    private static bool Applies(SeccompSyscallEntry entry, HashSet<string> caps, SeccompPlatform platform)
    {
        if (entry.Excludes is { } ex)
        {
            if ((ex.Arches?.Contains(platform.GoArch) ?? false) || (ex.Caps?.Any(caps.Contains) ?? false)
                || (ex.MinKernel is { } min && platform.Kernel >= Kernel(min)))
            {
                return false;
            }
        }

        if (entry.Includes is { } inc)
        {
            if ((inc.Arches is { Count: > 0 } arches && !arches.Contains(platform.GoArch)) || (inc.Caps?.Any(c => !caps.Contains(c)) ?? false)
                || (inc.MinKernel is { } min && platform.Kernel < Kernel(min)))
            {
                return false;
            }
        }

        return true;
    }

    private static Version Kernel(string text)
    {
        var parts = text.Split('.');
        return parts.Length >= 2 && int.TryParse(parts[0], out var major) && int.TryParse(parts[1], out var minor) && major >= 0 && minor >= 0
            ? new Version(major, minor)
            : throw new InvalidDataException($"seccomp profile: invalid kernel version \"{text}\" (want MAJOR.MINOR)");
    }

    private static List<string> Names(SeccompSyscallEntry entry, string where)
    {
        if (entry.Name is { Length: > 0 } name)
        {
            return entry.Names is { Count: > 0 }
                ? throw new InvalidDataException($"seccomp profile {where}: use either 'name' or 'names'")
                : [name];
        }

        var names = entry.Names ?? [];
        return names.Any(string.IsNullOrEmpty) || names.Count == 0
            ? throw new InvalidDataException($"seccomp profile {where}: empty syscall name")
            : names;
    }

    private static SeccompAction Action(string action, uint? errno)
    {
        if (errno is > ushort.MaxValue)
        {
            throw new InvalidDataException($"seccomp profile: errnoRet {errno} out of range");
        }

        var ret = (ushort)(errno ?? ErrnoNames.EPERM);
        return action switch
        {
            "SCMP_ACT_ALLOW" => SeccompAction.Allow,
            "SCMP_ACT_ERRNO" => SeccompAction.Errno(ret),
            "SCMP_ACT_KILL" or "SCMP_ACT_KILL_THREAD" => SeccompAction.KillThread,
            "SCMP_ACT_KILL_PROCESS" => SeccompAction.KillProcess,
            "SCMP_ACT_TRAP" => SeccompAction.Trap,
            "SCMP_ACT_TRACE" => SeccompAction.Trace(ret),
            "SCMP_ACT_LOG" => SeccompAction.Log,
            "SCMP_ACT_NOTIFY" => throw new InvalidDataException("seccomp action SCMP_ACT_NOTIFY is not supported"),
            _ => throw new InvalidDataException($"seccomp profile: unknown action \"{action}\""),
        };
    }

    private static SeccompOperator Operator(string? op, string where) => op switch
    {
        "SCMP_CMP_NE" => SeccompOperator.NotEqual,
        "SCMP_CMP_LT" => SeccompOperator.LessThan,
        "SCMP_CMP_LE" => SeccompOperator.LessOrEqual,
        "SCMP_CMP_EQ" => SeccompOperator.EqualTo,
        "SCMP_CMP_GE" => SeccompOperator.GreaterOrEqual,
        "SCMP_CMP_GT" => SeccompOperator.GreaterThan,
        "SCMP_CMP_MASKED_EQ" => SeccompOperator.MaskedEqual,
        _ => throw new InvalidDataException($"seccomp profile {where}: unknown operator \"{op}\""),
    };
}
