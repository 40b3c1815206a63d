using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using NodeAgent.ContainerSpec;
using NodeAgent.Linux;
using NodeAgent.Logs;

namespace NodeAgent.Shim;

/// <summary>
/// The per-container monitor. It enters the pod's namespaces, starts the container init, tells its launcher the
/// container PID on stdout, then outlives the launcher: it copies the container's stdout/stderr into the CRI log
/// and records the exit status in <c>exit.json</c>.
/// </summary>
internal static class ShimMonitor
{
    private const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGTERM = 15;

    /// <summary>How long output still arriving after the init's exit (from processes it left behind) is copied.</summary>
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(2);

    /// <summary>
    /// One thread after the start (plus the runtime's finalizer): no thread pool, no async, no signal thread. One
    /// runs per container, so its start-up is on every container's start path and its memory is paid per container.
    /// </summary>
    public static int Run(string bundle)
    {
        // Ignored, not handled: a handler needs .NET's signal thread. posix_spawn resets them to the default for the init.
        ProcessControl.IgnoreSignals(SIGTERM, SIGINT, SIGHUP, SIGQUIT);
        FileDescriptors.RedirectToFile(2, Path.Combine(bundle, BundleFiles.ShimLog));
        try
        {
            ProcessControl.SetSession();
        }
        catch (LinuxException)
        {
            // Already a session leader: nothing to detach from.
        }

        ContainerSpec.ContainerSpec spec;
        InitProcess process;
        try
        {
            spec = Bundle.LoadSpec(bundle);
            process = StartInit(bundle, spec, out var startError);
            if (startError is not null)
            {
                using (process)
                {
                    ProcessSpawner.WaitForExit(process.Pid);
                }

                Bundle.WriteExit(bundle, new ExitStatus { ExitCode = 128, ExitedAt = DateTimeOffset.UtcNow, StartError = startError });
                Reply(new ShimReply { Error = startError });
                return 1;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or System.ComponentModel.Win32Exception)
        {
            var message = $"container {Path.GetFileName(bundle)}: {ex.Message}";
            Bundle.WriteExit(bundle, new ExitStatus { ExitCode = 128, ExitedAt = DateTimeOffset.UtcNow, StartError = message });
            Reply(new ShimReply { Error = message });
            return 1;
        }

        using (process)
        {
            Bundle.WriteState(bundle, new ShimState { ShimPid = Environment.ProcessId, Pid = process.Pid, StartedAt = DateTimeOffset.UtcNow });
            Reply(new ShimReply { Pid = process.Pid });
            DetachStdio();

            using var log = spec.Log is null ? null : new CriLogWriter(spec.Log.Path, spec.Log.MaxSizeBytes, spec.Log.MaxFiles);
            var (exitCode, exitedAt) = Supervise(process, log);
            Bundle.WriteExit(bundle, new ExitStatus { ExitCode = exitCode, ExitedAt = exitedAt });
        }

        return 0;
    }

    /// <summary>
    /// Copies the init's stdout and stderr into the log until it exits, one poll loop over the two pipes and its
    /// pidfd; then reaps it and copies what is still coming for up to <see cref="Drain"/> (processes that escaped
    /// into the background may hold the pipes open forever).
    /// </summary>
    private static (int ExitCode, DateTimeOffset ExitedAt) Supervise(InitProcess process, CriLogWriter? log)
    {
        var buffer = new byte[16 * 1024];
        var open = new List<(SafeHandle Handle, CriStream Stream)> { (process.Stdout, CriStream.Stdout), (process.Stderr, CriStream.Stderr) };
        var handles = new List<SafeHandle>(3);
        Span<bool> ready = stackalloc bool[3];
        int? exitCode = null;
        var exitedAt = default(DateTimeOffset);
        long drainUntil = 0;
        while (exitCode is null || open.Count > 0)
        {
            var timeout = -1;
            if (exitCode is not null)
            {
                timeout = (int)Math.Max(0, (drainUntil - Environment.TickCount64));
                if (timeout == 0)
                {
                    break;
                }
            }

            handles.Clear();
            handles.AddRange(open.Select(o => o.Handle));
            if (exitCode is null)
            {
                handles.Add(process.PidFd);
            }

            if (Readiness.WaitReadable(handles, ready, timeout) == 0)
            {
                continue;
            }

            if (exitCode is null && ready[handles.Count - 1])
            {
                exitCode = ProcessSpawner.WaitForExit(process.Pid);
                exitedAt = DateTimeOffset.UtcNow;
                drainUntil = Environment.TickCount64 + (long)Drain.TotalMilliseconds;
            }

            for (var i = open.Count - 1; i >= 0; i--)
            {
                if (!ready[i])
                {
                    continue;
                }

                var n = ReadPipe(open[i].Handle, buffer);
                if (n <= 0)
                {
                    open.RemoveAt(i);
                }
                else if (log is not null && !TryLog(log, open[i].Stream, buffer.AsSpan(0, n)))
                {
                    log = null; // the container keeps running and its exit is still recorded
                }
            }
        }

        return (exitCode.Value, exitedAt);
    }

    private static bool TryLog(CriLogWriter log, CriStream stream, ReadOnlySpan<byte> chunk)
    {
        try
        {
            log.Write(stream, chunk);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"shim: writing the container log {log.Path} failed, its output is dropped from now on: {ex.Message}");
            return false;
        }
    }

    /// <summary>One read of a pipe poll found readable; 0 at end of file, -1 when it broke.</summary>
    private static int ReadPipe(SafeHandle pipe, byte[] buffer)
    {
        try
        {
            return FileDescriptors.Read(pipe, buffer);
        }
        catch (LinuxException)
        {
            return -1;
        }
    }

    /// <summary>
    /// Enters the namespaces and starts the init on a dedicated thread that ends afterwards: a thread that has
    /// unshared its PID namespace can no longer create threads, and namespace changes must not leak into others.
    /// </summary>
    private static InitProcess StartInit(string bundle, ContainerSpec.ContainerSpec spec, out string? startError)
    {
        var (process, error) = Namespaces.RunOnDedicatedThread(() =>
        {
            EnterNamespaces(spec);
            return SpawnInit(bundle, out _);
        });
        startError = error;
        return process;
    }

    private static (InitProcess Process, string? Error) SpawnInit(string bundle, out string? startError)
    {
        var (syncRead, syncWrite) = FileDescriptors.CreateInheritablePipe();
        var (outRead, outWrite) = FileDescriptors.CreatePipe();
        var (errRead, errWrite) = FileDescriptors.CreatePipe();
        int pid;
        using (syncWrite)
        using (outWrite)
        using (errWrite)
        {
            var self = Environment.ProcessPath ?? "/proc/self/exe";
            var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                .Select(e => $"{e.Key}={e.Value}").ToList();
            pid = ProcessSpawner.Spawn(self,
                [self, "init", bundle, ((int)syncWrite.DangerousGetHandle()).ToString(System.Globalization.CultureInfo.InvariantCulture)],
                env, (int)outWrite.DangerousGetHandle(), (int)errWrite.DangerousGetHandle());
        }

        // Opened before anything can reap it, so the pidfd is the init's. No thread may be started here: this
        // thread has unshared its PID namespace.
        var pidFd = PidFd.TryOpen(pid) ?? throw new IOException($"container init {pid} vanished before the shim could watch it");
        using (syncRead)
        {
            startError = SyncPipe.ReadAll(syncRead);
        }

        return (new InitProcess(pid, pidFd, outRead, errRead), startError);
    }

    /// <summary>Joins or creates the container's namespaces on this thread; the init inherits them.</summary>
    private static void EnterNamespaces(ContainerSpec.ContainerSpec spec)
    {
        NamespaceKind create = 0;
        foreach (var ns in spec.Namespaces)
        {
            var kind = NamespaceKinds.Parse(ns.Type);
            if (kind == NamespaceKind.Mount)
            {
                continue; // the init makes its own mount namespace
            }

            if (ns.Path is null)
            {
                create |= kind;
            }
            else
            {
                Namespaces.Join(ns.Path, kind);
            }
        }

        if (create != 0)
        {
            Namespaces.Unshare(create);
        }
    }

    private static void Reply(ShimReply reply)
    {
        FileDescriptors.WriteAll(1, [.. BundleJson.Write(reply), (byte)'\n']);
    }

    /// <summary>Points stdin and stdout at /dev/null so the launcher's pipe closes and it may exit.</summary>
    private static void DetachStdio() => FileDescriptors.RedirectToDevNull(0, 1);
}
