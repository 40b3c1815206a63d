using System.Runtime.InteropServices;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>
/// Installs a compiled seccomp program (<see cref="SeccompCompiler"/>) on the calling thread with seccomp(2)
/// <c>SECCOMP_SET_MODE_FILTER</c>, no flags: not the process's other threads (no TSYNC), which execve ends anyway;
/// the filter is inherited across execve and fork and can never be removed. The kernel requires no_new_privs or
/// CAP_SYS_ADMIN in the caller's user namespace, so the caller picks its moment as runc does.
/// </summary>
public static class SeccompFilter
{
    /// <summary>Size of one <c>struct sock_filter</c> (code u16, jt u8, jf u8, k u32).</summary>
    public const int InstructionSize = 8;

    private const nint SYS_seccomp = 317;
    private const nint SECCOMP_SET_MODE_FILTER = 1;

    /// <summary>BPF_MAXINSNS: the kernel refuses longer programs.</summary>
    private const int MaxInstructions = 4096;

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct SockFprog
    {
        public ushort Length;
        public byte* Filter;
    }

    /// <exception cref="InvalidDataException">Not a whole number of instructions, empty or longer than the kernel allows.</exception>
    /// <exception cref="LinuxException">The kernel refused it (EACCES without no_new_privs or CAP_SYS_ADMIN, EINVAL for a bad program).</exception>
    public static unsafe void Install(ReadOnlySpan<byte> program)
    {
        var count = program.Length / InstructionSize;
        if (program.Length % InstructionSize != 0 || count is 0 or > MaxInstructions)
        {
            throw new InvalidDataException($"seccomp: a filter program of {program.Length} bytes is not 1-{MaxInstructions} instructions of {InstructionSize} bytes");
        }

        fixed (byte* instructions = program)
        {
            var fprog = new SockFprog { Length = (ushort)count, Filter = instructions };
            if (Libc.Syscall4(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (nint)(&fprog), 0) != 0)
            {
                throw new LinuxException("seccomp(SECCOMP_SET_MODE_FILTER)", $"{count} instructions", Marshal.GetLastPInvokeError());
            }
        }
    }
}
