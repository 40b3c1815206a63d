using System.Runtime.InteropServices;

namespace NodeAgent.Cgroups;

/// <summary>
/// Kills processes and waits for them to exit using pidfds (poll(2) on a pidfd returns when the process
/// exits), so waiting is driven by the kernel rather than by sleeping.
/// </summary>
internal static class ProcessReaper
{
    public static void KillAll(IEnumerable<int> pids)
    {
        foreach (int pid in pids)
        {
            Interop.kill(pid, Interop.SIGKILL); // ESRCH: already gone.
        }
    }

    /// <summary>Waits until every pid has exited or <paramref name="timeoutMs"/> elapses; true when all exited.</summary>
    public static unsafe bool WaitForExit(IReadOnlyList<int> pids, int timeoutMs)
    {
        var fds = new List<int>(pids.Count);
        try
        {
            foreach (int pid in pids)
            {
                int fd = Interop.pidfd_open(pid, 0);
                if (fd >= 0)
                {
                    fds.Add(fd);
                }
                else if (Marshal.GetLastPInvokeError() != CgroupFs.ESRCH)
                {
                    return false;
                }
            }

            long deadline = Environment.TickCount64 + timeoutMs;
            var poll = new Interop.PollFd[fds.Count];
            int remaining = fds.Count;
            for (int i = 0; i < fds.Count; i++)
            {
                poll[i] = new Interop.PollFd { Fd = fds[i], Events = Interop.POLLIN };
            }

            while (remaining > 0)
            {
                int wait = (int)Math.Max(0, deadline - Environment.TickCount64);
                int n;
                fixed (Interop.PollFd* p = poll)
                {
                    n = Interop.poll(p, (nuint)poll.Length, wait);
                }

                if (n < 0 && Marshal.GetLastPInvokeError() == CgroupFs.EINTR)
                {
                    continue;
                }

                if (n <= 0)
                {
                    return false;
                }

                for (int i = 0; i < poll.Length; i++)
                {
                    if (poll[i].Fd >= 0 && poll[i].REvents != 0)
                    {
                        poll[i].Fd = -1; // poll(2) ignores negative descriptors.
                        remaining--;
                    }
                }
            }

            return true;
        }
        finally
        {
            foreach (int fd in fds)
            {
                Interop.close(fd);
            }
        }
    }
}
