using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>A pidfd: a stable handle to one process that never refers to a recycled PID.</summary>
public sealed class PidFd : SafeHandleZeroOrMinusOneIsInvalid
{
    private PidFd()
        : base(ownsHandle: true)
    {
    }

    public int Pid { get; private init; }

    /// <summary>Opens a pidfd for <paramref name="pid"/>; null when no such process exists.</summary>
    public static PidFd? TryOpen(int pid)
    {
        var fd = Libc.Syscall2(Libc.SYS_pidfd_open, pid, 0);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == ErrnoNames.ESRCH)
            {
                return null;
            }

            throw new LinuxException("pidfd_open", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), errno);
        }

        var handle = new PidFd { Pid = pid };
        handle.SetHandle(fd);
        return handle;
    }

    /// <summary>Signals the process; false when it has already exited.</summary>
    public bool Signal(int signal)
    {
        var r = Libc.Syscall4(Libc.SYS_pidfd_send_signal, handle, signal, 0, 0);
        if (r == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno == ErrnoNames.ESRCH)
        {
            return false;
        }

        throw new LinuxException($"pidfd_send_signal {signal} to", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), errno);
    }

    protected override bool ReleaseHandle() => Tmds.Linux.LibC.close((int)handle) == 0;
}
