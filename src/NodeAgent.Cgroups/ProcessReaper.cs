using NodeAgent.Linux;

namespace NodeAgent.Cgroups;

/// <summary>
/// Kills the processes of a cgroup through pidfds (a recycled PID is never signalled) and waits for them to exit:
/// a pidfd turns readable when its process exits, so waiting is driven by the kernel rather than by sleeping.
/// </summary>
internal sealed class ProcessReaper : IDisposable
{
    private const int SIGKILL = 9;
    private readonly List<PidFd> _processes = [];

    /// <summary>Takes a pidfd of each process still alive; one already gone (or not ours to see) is skipped.</summary>
    public ProcessReaper(IEnumerable<int> pids)
    {
        foreach (var pid in pids)
        {
            try
            {
                if (PidFd.TryOpen(pid) is { } handle)
                {
                    _processes.Add(handle);
                }
            }
            catch (LinuxException)
            {
                // Not ours to wait for; removal reports EBUSY if it keeps the cgroup alive.
            }
        }
    }

    public void KillAll()
    {
        foreach (var process in _processes)
        {
            try
            {
                process.Signal(SIGKILL); // false: already gone.
            }
            catch (LinuxException)
            {
                // As above: the rmdir that follows names the cgroup that stays busy.
            }
        }
    }

    /// <summary>Waits until every process has exited or <paramref name="timeout"/> elapses; true when all exited.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        try
        {
            return PidFd.WaitForAllExited(_processes, timeout);
        }
        catch (LinuxException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            process.Dispose();
        }
    }
}
