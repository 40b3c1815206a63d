using System.Runtime.InteropServices;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>A libseccomp filter context (<c>scmp_filter_ctx</c>), released with <c>seccomp_release</c>.</summary>
internal sealed class SeccompContext : SafeHandle
{
    private SeccompContext()
        : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    internal nint Ctx => handle;

    /// <summary>A new context with <paramref name="defaultAction"/> and the native architecture.</summary>
    public static SeccompContext Create(uint defaultAction)
    {
        var ctx = Libseccomp.Init(defaultAction);
        if (ctx == 0)
        {
            throw new InvalidOperationException($"seccomp_init: default action 0x{defaultAction:x8} refused by libseccomp");
        }

        var context = new SeccompContext();
        context.SetHandle(ctx);
        return context;
    }

    /// <summary>Throws a <see cref="LinuxException"/> for a libseccomp result below zero (libseccomp returns -errno).</summary>
    public static void Check(int result, string operation, string? target = null)
    {
        if (result < 0)
        {
            throw new LinuxException(operation, target, -result);
        }
    }

    protected override bool ReleaseHandle()
    {
        Libseccomp.Release(handle);
        return true;
    }
}
