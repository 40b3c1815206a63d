using NodeAgent.Linux.Interop;
using Tmds.Linux;

namespace NodeAgent.Linux;

/// <summary>
/// Compiles a <see cref="SeccompFilterSpec"/> into a classic BPF program with libseccomp, as runc does (its rule
/// building, then <c>seccomp_export_bpf</c> instead of <c>seccomp_load</c>): syscall names libseccomp does not know
/// are skipped (reported in <see cref="SeccompProgram.UnknownSyscalls"/>), rules whose action is the default action
/// are left out, and a rule with two conditions on one argument becomes one rule per condition (libseccomp refuses
/// them together). The program is exported rather than loaded so that the runtime compiles once and every container
/// start and exec only installs it (<see cref="SeccompFilter.Install"/>).
/// </summary>
public static class SeccompCompiler
{
    private const int SyscallArguments = 6;
    private const int SCMP_FLTATR_CTL_OPTIMIZE = 8;

    /// <exception cref="ArgumentException">An unknown architecture, or a condition on an argument past the sixth.</exception>
    /// <exception cref="LinuxException">libseccomp refused a rule (the syscall is named) or the export.</exception>
    public static SeccompProgram Compile(SeccompFilterSpec spec)
    {
        using var context = SeccompContext.Create(spec.DefaultAction.Value);
        var ctx = context.Ctx;
        // The installing process sets no_new_privs itself when the container asks for it (runc unsets this too).
        SeccompContext.Check(Libseccomp.AttrSet(ctx, Libseccomp.SCMP_FLTATR_CTL_NNP, 0), "seccomp_attr_set", "no_new_privs");
        if (spec.Rules.Count > 8)
        {
            // A binary tree of syscall numbers instead of a linear chain, as runc asks for long rule sets; older
            // libseccomp without the attribute keeps the linear program.
            _ = Libseccomp.AttrSet(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        }

        var native = Libseccomp.ArchNative();
        foreach (var name in spec.Architectures)
        {
            var arch = Libseccomp.ArchResolveName(name);
            if (arch == 0)
            {
                throw new ArgumentException($"seccomp: unknown architecture \"{name}\"", nameof(spec));
            }

            if (arch != native)
            {
                var added = Libseccomp.ArchAdd(ctx, arch);
                if (added != -ErrnoNames.EEXIST)
                {
                    SeccompContext.Check(added, "seccomp_arch_add", name);
                }
            }
        }

        var unknown = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var rule in spec.Rules)
        {
            if (rule.Action == spec.DefaultAction)
            {
                continue;
            }

            foreach (var name in rule.Names)
            {
                var number = Libseccomp.SyscallResolveName(name);
                if (number < 0)
                {
                    unknown.Add(name);
                    continue;
                }

                AddRule(ctx, name, number, rule);
            }
        }

        return new SeccompProgram(Export(ctx), [.. unknown]);
    }

    private static unsafe void AddRule(nint ctx, string name, int number, SeccompRule rule)
    {
        var conditions = rule.Conditions;
        var perArgument = new int[SyscallArguments];
        foreach (var condition in conditions)
        {
            if (condition.Index >= SyscallArguments)
            {
                throw new ArgumentException($"seccomp: syscall {name}: argument index {condition.Index} is past the last ({SyscallArguments - 1})");
            }

            perArgument[condition.Index]++;
        }

        var compares = conditions.Select(c => new Libseccomp.ArgCmp { Arg = c.Index, Op = (int)c.Operator, DatumA = c.Value, DatumB = c.ValueTwo }).ToArray();
        fixed (Libseccomp.ArgCmp* all = compares)
        {
            if (perArgument.All(n => n <= 1))
            {
                SeccompContext.Check(Libseccomp.RuleAddArray(ctx, rule.Action.Value, number, (uint)compares.Length, compares.Length == 0 ? null : all),
                    "seccomp_rule_add", name);
                return;
            }

            for (var i = 0; i < compares.Length; i++)
            {
                SeccompContext.Check(Libseccomp.RuleAddArray(ctx, rule.Action.Value, number, 1, all + i), "seccomp_rule_add", name);
            }
        }
    }

    /// <summary>The program through a memfd (libseccomp 2.5 exports only to a descriptor; a pipe could fill).</summary>
    private static unsafe byte[] Export(nint ctx)
    {
        var name = "seccomp-bpf\0"u8;
        int fd;
        fixed (byte* n = name)
        {
            fd = LinuxException.ThrowIfError(LibC.memfd_create(n, LibC.MFD_CLOEXEC), "memfd_create");
        }

        using var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
        SeccompContext.Check(Libseccomp.ExportBpf(ctx, fd), "seccomp_export_bpf");
        var length = RandomAccess.GetLength(handle);
        var program = new byte[length];
        var read = 0;
        while (read < program.Length)
        {
            var n = RandomAccess.Read(handle, program.AsSpan(read), read);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return read == program.Length && read % SeccompFilter.InstructionSize == 0
            ? program
            : throw new InvalidDataException($"seccomp_export_bpf: {read} of {program.Length} bytes, not whole instructions");
    }
}

/// <summary>A compiled filter: <see cref="Instructions"/> is an array of <c>struct sock_filter</c> (8 bytes each).</summary>
public sealed record SeccompProgram(byte[] Instructions, IReadOnlyList<string> UnknownSyscalls);
