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

    /// <summary>Takes ownership of a pidfd inherited as descriptor <paramref name="fd"/> (its PID is not known: 0).</summary>
    public static PidFd Adopt(int fd)
    {
        var handle = new PidFd();
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

    /// <summary>
    /// Waits until every process in <paramref name="pidFds"/> has exited, or <paramref name="timeout"/> elapses: poll(2)
    /// on pidfds, which turn readable when their process exits, so the kernel says when (nothing sleeps).
    /// True when all exited.
    /// </summary>
    public static unsafe bool WaitForAllExited(IReadOnlyList<PidFd> pidFds, TimeSpan timeout)
    {
        var fds = new Tmds.Linux.pollfd[pidFds.Count];
        var added = new bool[pidFds.Count];
        try
        {
            for (var i = 0; i < pidFds.Count; i++)
            {
                pidFds[i].DangerousAddRef(ref added[i]);
                fds[i] = new Tmds.Linux.pollfd { fd = (int)pidFds[i].DangerousGetHandle(), events = Tmds.Linux.LibC.POLLIN };
            }

            var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            var remaining = fds.Length;
            while (remaining > 0)
            {
                var wait = (int)Math.Max(0, deadline - Environment.TickCount64);
                int n;
                fixed (Tmds.Linux.pollfd* p = fds)
                {
                    n = Tmds.Linux.LibC.poll(p, (uint)fds.Length, wait);
                }

                if (n < 0)
                {
                    var errno = Marshal.GetLastSystemError(); // Tmds' poll is declared without SetLastError
                    if (errno == ErrnoNames.EINTR)
                    {
                        continue;
                    }

                    throw new LinuxException("poll on pidfds of", string.Join(',', pidFds.Select(p => p.Pid)), errno);
                }

                if (n == 0)
                {
                    return false;
                }

                for (var i = 0; i < fds.Length; i++)
                {
                    if (fds[i].fd >= 0 && fds[i].revents != 0)
                    {
                        fds[i].fd = -1; // poll(2) ignores negative descriptors.
                        remaining--;
                    }
                }
            }

            return true;
        }
        finally
        {
            for (var i = 0; i < pidFds.Count; i++)
            {
                if (added[i])
                {
                    pidFds[i].DangerousRelease();
                }
            }
        }
    }

    protected override bool ReleaseHandle() => Tmds.Linux.LibC.close((int)handle) == 0;
}
