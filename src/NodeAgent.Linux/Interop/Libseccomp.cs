using System.Runtime.InteropServices;

namespace NodeAgent.Linux.Interop;

/// <summary>
/// libseccomp (Debian's <c>libseccomp2</c>, <c>libseccomp.so.2</c>, 2.5.x): the filter compiler runc and containerd
/// use. Only the compile-and-export half is bound; the program is installed with seccomp(2) by
/// <see cref="SeccompFilter"/>, so the process that installs it never loads the library. Its calls return
/// <c>-errno</c> rather than setting errno.
/// </summary>
internal static unsafe partial class Libseccomp
{
    private const string Lib = "libseccomp.so.2";

    internal const int SCMP_FLTATR_ACT_BADARCH = 2, SCMP_FLTATR_CTL_NNP = 3;

    /// <summary>struct scmp_arg_cmp: arg (u32), op (enum), datum_a (u64), datum_b (u64): 24 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ArgCmp
    {
        public uint Arg;
        public int Op;
        public ulong DatumA;
        public ulong DatumB;
    }

    [LibraryImport(Lib, EntryPoint = "seccomp_init")]
    internal static partial nint Init(uint defaultAction);

    [LibraryImport(Lib, EntryPoint = "seccomp_release")]
    internal static partial void Release(nint ctx);

    [LibraryImport(Lib, EntryPoint = "seccomp_attr_set")]
    internal static partial int AttrSet(nint ctx, int attr, uint value);

    [LibraryImport(Lib, EntryPoint = "seccomp_arch_resolve_name", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial uint ArchResolveName(string name);

    [LibraryImport(Lib, EntryPoint = "seccomp_arch_native")]
    internal static partial uint ArchNative();

    [LibraryImport(Lib, EntryPoint = "seccomp_arch_add")]
    internal static partial int ArchAdd(nint ctx, uint arch);

    /// <summary>The native number of a syscall name, or <c>__NR_SCMP_ERROR</c> (-1) when libseccomp does not know it.</summary>
    [LibraryImport(Lib, EntryPoint = "seccomp_syscall_resolve_name", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SyscallResolveName(string name);

    [LibraryImport(Lib, EntryPoint = "seccomp_rule_add_array")]
    internal static partial int RuleAddArray(nint ctx, uint action, int syscall, uint argCount, ArgCmp* args);

    [LibraryImport(Lib, EntryPoint = "seccomp_export_bpf")]
    internal static partial int ExportBpf(nint ctx, int fd);
}
