using System.Runtime.InteropServices;
using Tmds.Linux;

namespace NodeAgent.Linux;

/// <summary>poll(2) over a few descriptors for a single-threaded loop (a pidfd turns readable when its process exits).</summary>
public static unsafe class Readiness
{
    /// <summary>
    /// Waits until at least one of <paramref name="handles"/> is readable or hung up, or <paramref name="timeoutMs"/>
    /// passes (-1: no limit). Sets <paramref name="ready"/>[i] for each one that is; returns how many are.
    /// </summary>
    public static int WaitReadable(IReadOnlyList<SafeHandle> handles, Span<bool> ready, int timeoutMs)
    {
        var fds = new pollfd[handles.Count];
        var added = new bool[handles.Count];
        try
        {
            for (var i = 0; i < handles.Count; i++)
            {
                handles[i].DangerousAddRef(ref added[i]);
                fds[i] = new pollfd { fd = (int)handles[i].DangerousGetHandle(), events = LibC.POLLIN };
            }

            int n;
            fixed (pollfd* p = fds)
            {
                while ((n = LibC.poll(p, (uint)fds.Length, timeoutMs)) < 0)
                {
                    var errno = Marshal.GetLastSystemError(); // Tmds' poll is declared without SetLastError
                    if (errno != ErrnoNames.EINTR)
                    {
                        throw new LinuxException("poll", null, errno);
                    }
                }
            }

            for (var i = 0; i < fds.Length; i++)
            {
                ready[i] = fds[i].revents != 0;
            }

            return n;
        }
        finally
        {
            for (var i = 0; i < handles.Count; i++)
            {
                if (added[i])
                {
                    handles[i].DangerousRelease();
                }
            }
        }
    }
}
