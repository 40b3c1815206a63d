namespace NodeAgent.Linux;

/// <summary>
/// A seccomp filter as the kernel sees it, before compilation: the default action, the architectures it covers
/// (libseccomp names: <c>x86_64</c>, <c>x86</c>, <c>x32</c>, <c>aarch64</c>…; the native one is always covered) and
/// the rules in order. Profiles (OCI/Docker JSON, the runtime's default) are evaluated into this by the runtime.
/// </summary>
public sealed record SeccompFilterSpec(SeccompAction DefaultAction, IReadOnlyList<string> Architectures, IReadOnlyList<SeccompRule> Rules);

/// <summary>One rule: the action for the named syscalls when every condition holds (no conditions: always).</summary>
public sealed record SeccompRule(IReadOnlyList<string> Names, SeccompAction Action, IReadOnlyList<SeccompCondition> Conditions);

/// <summary>A comparison of one syscall argument (index 0-5); <paramref name="ValueTwo"/> is the datum of
/// <see cref="SeccompOperator.MaskedEqual"/> (argument &amp; Value == ValueTwo).</summary>
public sealed record SeccompCondition(uint Index, SeccompOperator Operator, ulong Value, ulong ValueTwo = 0);

/// <summary>libseccomp's comparison operators (<c>enum scmp_compare</c>).</summary>
public enum SeccompOperator
{
    NotEqual = 1,
    LessThan = 2,
    LessOrEqual = 3,
    EqualTo = 4,
    GreaterOrEqual = 5,
    GreaterThan = 6,
    MaskedEqual = 7,
}

/// <summary>A filter action as libseccomp encodes it (<c>SCMP_ACT_*</c>).</summary>
public readonly record struct SeccompAction(uint Value)
{
    public static SeccompAction Allow { get; } = new(0x7fff0000);

    public static SeccompAction KillThread { get; } = new(0x00000000);

    public static SeccompAction KillProcess { get; } = new(0x80000000);

    public static SeccompAction Trap { get; } = new(0x00030000);

    public static SeccompAction Log { get; } = new(0x7ffc0000);

    /// <summary>Fail the call with <paramref name="errno"/>.</summary>
    public static SeccompAction Errno(ushort errno) => new(0x00050000u | errno);

    /// <summary>Notify a ptrace tracer with <paramref name="message"/>; ENOSYS when there is none.</summary>
    public static SeccompAction Trace(ushort message) => new(0x7ff00000u | message);

    public override string ToString() => $"0x{Value:x8}";
}
