using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>
/// unshare(2) and setns(2). Both change only the calling thread: call them on a thread that never returns to
/// the thread pool (a dedicated thread, or the main thread of a single-purpose process).
/// </summary>
public static class Namespaces
{
    public static string ProcName(NamespaceKind kind) => kind switch
    {
        NamespaceKind.Mount => "mnt",
        NamespaceKind.Uts => "uts",
        NamespaceKind.Ipc => "ipc",
        NamespaceKind.Pid => "pid",
        NamespaceKind.Network => "net",
        NamespaceKind.Cgroup => "cgroup",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static void Unshare(NamespaceKind kinds)
    {
        LinuxException.ThrowIfError(Libc.Syscall2(Libc.SYS_unshare, (nint)(int)kinds, 0), "unshare", kinds.ToString());
    }

    /// <summary>Joins the namespace held by the file at <paramref name="path"/> (a /proc/PID/ns file or a bind mount of one).</summary>
    public static void Join(string path, NamespaceKind kind)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        Join(handle, kind, path);
    }

    public static void Join(SafeFileHandle handle, NamespaceKind kind, string description)
    {
        var result = Libc.Syscall2(Libc.SYS_setns, handle.DangerousGetHandle(), (nint)(int)kind);
        LinuxException.ThrowIfError(result, "setns " + ProcName(kind), description);
    }

    /// <summary>
    /// Joins every namespace in <paramref name="kinds"/> of the process behind <paramref name="process"/> at once
    /// (setns(2) on a pidfd, Linux 5.8). Joining a mount namespace needs a thread whose filesystem attributes are
    /// its own: call <see cref="UnshareFilesystemAttributes"/> first in a multithreaded process.
    /// </summary>
    public static void Join(PidFd process, NamespaceKind kinds)
    {
        var added = false;
        process.DangerousAddRef(ref added);
        try
        {
            var result = Libc.Syscall2(Libc.SYS_setns, process.DangerousGetHandle(), (nint)(int)kinds);
            LinuxException.ThrowIfError(result, "setns " + kinds, "of process " + process.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            if (added)
            {
                process.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// unshare(CLONE_FS): the calling thread gets its own root, working directory and umask, which setns(2) into a
    /// mount namespace requires (it refuses a thread sharing them with others, as every thread of a .NET process does).
    /// </summary>
    public static void UnshareFilesystemAttributes()
    {
        const int CLONE_FS = 0x200;
        LinuxException.ThrowIfError(Libc.Syscall2(Libc.SYS_unshare, CLONE_FS, 0), "unshare", "CLONE_FS");
    }

    /// <summary>Keeps the calling thread's namespace alive by bind-mounting its nsfs file onto <paramref name="target"/>.</summary>
    public static void PinCurrent(NamespaceKind kind, string target)
    {
        if (!File.Exists(target))
        {
            using (File.Create(target))
            {
            }
        }

        Mounts.Mount($"/proc/thread-self/ns/{ProcName(kind)}", target, null, MountFlags.Bind);
    }

    /// <summary>Runs <paramref name="action"/> on a fresh dedicated thread, which ends afterwards, so namespace
    /// changes made by the action never leak into other work.</summary>
    public static T RunOnDedicatedThread<T>(Func<T> action)
    {
        T? result = default;
        ExceptionDispatchInfoHolder? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = action();
            }
            catch (Exception ex)
            {
                error = new ExceptionDispatchInfoHolder(System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex));
            }
        }, 256 * 1024)
        {
            IsBackground = true,
            Name = "nodeagent-ns",
        };
        thread.Start();
        thread.Join();
        error?.Info.Throw();
        return result!;
    }

    /// <summary>As <see cref="RunOnDedicatedThread{T}"/>, without blocking the caller: the task completes when the thread is done.</summary>
    public static Task<T> RunOnDedicatedThreadAsync<T>(Func<T> action)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                done.SetResult(action());
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        }, 256 * 1024)
        {
            IsBackground = true,
            Name = "nodeagent-ns",
        };
        thread.Start();
        return done.Task;
    }

    private sealed record ExceptionDispatchInfoHolder(System.Runtime.ExceptionServices.ExceptionDispatchInfo Info);
}
