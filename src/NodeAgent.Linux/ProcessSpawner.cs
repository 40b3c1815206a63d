using System.Runtime.InteropServices;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>
/// posix_spawn(3): starts a program without the cost of .NET's Process machinery (glibc uses a vfork-style clone,
/// so it is cheap and safe from a multithreaded process). The child inherits the calling thread's namespaces,
/// descriptors not marked close-on-exec, and gets default signal dispositions and an empty signal mask.
/// </summary>
public static unsafe class ProcessSpawner
{
    private const short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;

    /// <summary>Starts <paramref name="path"/> with stdin from /dev/null and stdout/stderr on the given descriptors; returns the PID.</summary>
    public static int Spawn(string path, IReadOnlyList<string> args, IReadOnlyList<string> env, int stdoutFd, int stderrFd) =>
        Spawn(path, args, env, new SpawnStdio(-1, stdoutFd, stderrFd), [], newSession: false);

    /// <summary>
    /// Starts <paramref name="path"/> with the given stdio (stdin -1: /dev/null), passing each descriptor of
    /// <paramref name="inherited"/> under its own number (posix_spawn's dup2 onto itself clears close-on-exec, glibc
    /// 2.29 and later), optionally as the leader of a new session (and so of a new process group); returns the PID.
    /// </summary>
    public static int Spawn(string path, IReadOnlyList<string> args, IReadOnlyList<string> env, SpawnStdio stdio, IReadOnlyList<int> inherited, bool newSession)
    {
        const short POSIX_SPAWN_SETSID = 0x80;
        var actions = stackalloc byte[512];
        var attr = stackalloc byte[1024];
        Check(Libc.PosixSpawnFileActionsInit(actions), "posix_spawn_file_actions_init");
        Check(Libc.PosixSpawnattrInit(attr), "posix_spawnattr_init");
        using var strings = new NativeStrings();
        try
        {
            if (stdio.Stdin < 0)
            {
                Check(Libc.PosixSpawnFileActionsAddOpen(actions, 0, "/dev/null", Tmds.Linux.LibC.O_RDONLY, 0), "posix_spawn_file_actions_addopen");
            }
            else
            {
                Check(Libc.PosixSpawnFileActionsAddDup2(actions, stdio.Stdin, 0), "posix_spawn_file_actions_adddup2");
            }

            Check(Libc.PosixSpawnFileActionsAddDup2(actions, stdio.Stdout, 1), "posix_spawn_file_actions_adddup2");
            Check(Libc.PosixSpawnFileActionsAddDup2(actions, stdio.Stderr, 2), "posix_spawn_file_actions_adddup2");
            foreach (var fd in inherited)
            {
                Check(Libc.PosixSpawnFileActionsAddDup2(actions, fd, fd), "posix_spawn_file_actions_adddup2");
            }

            var sigset = stackalloc ulong[16];
            new Span<ulong>(sigset, 16).Clear();
            Check(Libc.PosixSpawnattrSetSigmask(attr, sigset), "posix_spawnattr_setsigmask");
            new Span<ulong>(sigset, 16).Fill(ulong.MaxValue);
            Check(Libc.PosixSpawnattrSetSigdefault(attr, sigset), "posix_spawnattr_setsigdefault");
            var flags = (short)(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (newSession ? POSIX_SPAWN_SETSID : 0));
            Check(Libc.PosixSpawnattrSetFlags(attr, flags), "posix_spawnattr_setflags");

            int pid;
            var rc = Libc.PosixSpawn(&pid, strings.Pin(path), actions, attr, strings.Array(args), strings.Array(env));
            if (rc != 0)
            {
                throw new LinuxException("posix_spawn", path, rc);
            }

            return pid;
        }
        finally
        {
            Libc.PosixSpawnFileActionsDestroy(actions);
            Libc.PosixSpawnattrDestroy(attr);
        }
    }

    /// <summary>Blocks until the child exits; returns its exit code, or 128+N when signal N killed it.</summary>
    public static int WaitForExit(int pid)
    {
        int status;
        while (Libc.Waitpid(pid, &status, 0) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != ErrnoNames.EINTR)
            {
                throw new LinuxException("waitpid", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), errno);
            }
        }

        var signal = status & 0x7f;
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal;
    }

    /// <summary>Reaps the child if it has exited; false when it is still running or not our child.</summary>
    public static bool TryReap(int pid, out int exitCode)
    {
        const int WNOHANG = 1;
        int status;
        exitCode = 0;
        var r = Libc.Waitpid(pid, &status, WNOHANG);
        if (r != pid)
        {
            return false;
        }

        var signal = status & 0x7f;
        exitCode = signal == 0 ? (status >> 8) & 0xff : 128 + signal;
        return true;
    }

    private static void Check(int rc, string what)
    {
        if (rc != 0)
        {
            throw new LinuxException(what, null, rc);
        }
    }
}
