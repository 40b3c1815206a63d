using System.Runtime.InteropServices;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>Per-process and per-thread settings a container init applies before exec.</summary>
public static class ProcessControl
{
    private const int PR_SET_DUMPABLE = 4, PR_SET_KEEPCAPS = 8, PR_SET_NO_NEW_PRIVS = 38;

    /// <summary>
    /// Marks the process non-dumpable: its /proc files (exe, fd, root, mem) are root's and need CAP_SYS_PTRACE, so
    /// processes of a container it enters cannot reach the host binary or its descriptors. execve resets it.
    /// </summary>
    public static void SetDumpable(bool dumpable) =>
        LinuxException.ThrowIfError(Libc.Prctl(PR_SET_DUMPABLE, dumpable ? 1u : 0u, 0, 0, 0), "prctl(PR_SET_DUMPABLE)");

    public static void SetNoNewPrivileges() =>
        LinuxException.ThrowIfError(Libc.Prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)");

    public static void SetKeepCapabilities(bool keep) =>
        LinuxException.ThrowIfError(Libc.Prctl(PR_SET_KEEPCAPS, keep ? 1u : 0u, 0, 0, 0), "prctl(PR_SET_KEEPCAPS)");

    /// <summary>Sets supplementary groups, then gid, then uid (in that order, as setuid drops the right to setgid).</summary>
    public static unsafe void SetIdentity(uint uid, uint gid, IReadOnlyList<uint> groups)
    {
        var list = groups.ToArray();
        fixed (uint* p = list)
        {
            LinuxException.ThrowIfError(Libc.Setgroups((nuint)list.Length, p), "setgroups", string.Join(',', list));
        }

        LinuxException.ThrowIfError(Libc.Setresgid(gid, gid, gid), "setresgid", gid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        LinuxException.ThrowIfError(Libc.Setresuid(uid, uid, uid), "setresuid", uid.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public static unsafe void SetHostname(string hostname)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(hostname);
        fixed (byte* p = bytes)
        {
            LinuxException.ThrowIfError(Libc.Sethostname(p, (nuint)bytes.Length), "sethostname", hostname);
        }
    }

    public static void ChangeDirectory(string path) => LinuxException.ThrowIfError(Libc.Chdir(path), "chdir", path);

    public static int SetSession() => LinuxException.ThrowIfError(Tmds.Linux.LibC.setsid(), "setsid");

    /// <summary>Sends a signal; false when the process no longer exists.</summary>
    public static bool Kill(int pid, int signal)
    {
        if (Tmds.Linux.LibC.kill(pid, signal) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno == ErrnoNames.ESRCH)
        {
            return false;
        }

        throw new LinuxException($"kill -{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), errno);
    }

    /// <summary>Sends a signal to every process of a process group; false when the group no longer exists.</summary>
    public static bool KillGroup(int processGroup, int signal)
    {
        if (processGroup <= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(processGroup), processGroup, "not a process group of a child");
        }

        return Kill(-processGroup, signal);
    }

    /// <summary>
    /// Replaces the process image. Returns only on failure, with the errno. Every signal this process ignores is
    /// first set back to the default: execve keeps SIG_IGN, and .NET ignores SIGPIPE, which a container's command
    /// must not inherit (<c>yes | head -1</c> would see EPIPE instead of dying of SIGPIPE).
    /// </summary>
    public static unsafe int Exec(string path, IReadOnlyList<string> args, IReadOnlyList<string> env)
    {
        DefaultIgnoredSignals();
        using var strings = new NativeStrings();
        Libc.Execve(strings.Pin(path), strings.Array(args), strings.Array(env));
        return Marshal.GetLastPInvokeError();
    }

    /// <summary>Sets every ignored signal back to SIG_DFL (handlers are left: execve resets those itself).</summary>
    public static unsafe void DefaultIgnoredSignals()
    {
        const int SIGKILL = 9, SIGSTOP = 19, FirstRealtime = 32, LastSignal = 64;
        var old = stackalloc byte[256]; // struct sigaction is 152 bytes on x86_64
        for (var signal = 1; signal <= LastSignal; signal++)
        {
            if (signal is SIGKILL or SIGSTOP or FirstRealtime or FirstRealtime + 1)
            {
                continue; // cannot be changed, or glibc's own (SIGCANCEL, SIGSETXID)
            }

            if (Libc.Sigaction(signal, null, old) == 0 && *(nint*)old == 1 /* SIG_IGN */)
            {
                Libc.Signal(signal, 0 /* SIG_DFL */);
            }
        }
    }

    /// <summary>Sets SIGCHLD to SIG_IGN, so the kernel reaps this process's children (and orphans it inherits) itself.</summary>
    public static void AutoReapChildren()
    {
        const int SIGCHLD = 17;
        if (Libc.Signal(SIGCHLD, 1 /* SIG_IGN */) == -1)
        {
            throw new LinuxException("signal(SIGCHLD, SIG_IGN)", null, Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>Sets the signals to SIG_IGN. Ignored signals stay ignored across execve: spawn children with default dispositions.</summary>
    public static void IgnoreSignals(params int[] signals)
    {
        foreach (var signal in signals)
        {
            if (Libc.Signal(signal, 1 /* SIG_IGN */) == -1)
            {
                throw new LinuxException($"signal({signal}, SIG_IGN)", null, Marshal.GetLastPInvokeError());
            }
        }
    }

    /// <summary>Sleeps until a signal arrives.</summary>
    public static void WaitForSignal() => Libc.Pause();

    /// <summary>Writes "0" (the caller) into a cgroup.procs file to join that cgroup.</summary>
    public static void JoinCgroup(string procsFile) => MoveToCgroup(procsFile, 0);

    /// <summary>Moves process <paramref name="pid"/> (0: the caller; a PID of the caller's own PID namespace) into the cgroup of a cgroup.procs file.</summary>
    public static void MoveToCgroup(string procsFile, int pid)
    {
        var text = System.Text.Encoding.ASCII.GetBytes(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var fd = LinuxException.ThrowIfError(Libc.Open(procsFile, Tmds.Linux.LibC.O_WRONLY | Tmds.Linux.LibC.O_CLOEXEC, 0), "open", procsFile);
        try
        {
            unsafe
            {
                fixed (byte* p = text)
                {
                    if (Tmds.Linux.LibC.write(fd, p, text.Length) < 0)
                    {
                        throw new LinuxException($"join cgroup: write {pid} to", procsFile, Marshal.GetLastPInvokeError());
                    }
                }
            }
        }
        finally
        {
            Tmds.Linux.LibC.close(fd);
        }
    }

    public static void MakeDevice(string path, bool character, uint mode, uint major, uint minor) =>
        FileSystemOps.MakeNode(path, (character ? FileSystemOps.S_IFCHR : FileSystemOps.S_IFBLK) | mode, major, minor);

    public static void MakeFifo(string path, uint mode) => FileSystemOps.MakeNode(path, FileSystemOps.S_IFIFO | mode, 0, 0);

    public static void Symlink(string target, string linkPath) =>
        LinuxException.ThrowIfError(Libc.Symlink(target, linkPath), "symlink", linkPath + " -> " + target);
}
