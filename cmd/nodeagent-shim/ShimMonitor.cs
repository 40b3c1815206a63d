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
    public static async Task<int> RunAsync(string bundle)
    {
        using var ignoreTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => c.Cancel = true);
        using var ignoreInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        using var ignoreHup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => c.Cancel = true);
        using var ignoreQuit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => c.Cancel = true);
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
                await process.Exit;
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

        Bundle.WriteState(bundle, new ShimState { ShimPid = Environment.ProcessId, Pid = process.Pid, StartedAt = DateTimeOffset.UtcNow });
        Reply(new ShimReply { Pid = process.Pid });
        DetachStdio();

        var log = spec.Log is null ? null : new CriLogWriter(spec.Log.Path, spec.Log.MaxSizeBytes, spec.Log.MaxFiles);
        var gate = new object();
        var pumps = Task.WhenAll(
            PumpAsync(process.Stdout, CriStream.Stdout, log, gate),
            PumpAsync(process.Stderr, CriStream.Stderr, log, gate));
        var exitCode = await process.Exit;
        var exitedAt = DateTimeOffset.UtcNow;

        // Processes that escaped into the background may hold the pipes open; do not wait for them forever.
        await Task.WhenAny(pumps, Task.Delay(TimeSpan.FromSeconds(2)));
        lock (gate)
        {
            log?.Dispose();
        }

        Bundle.WriteExit(bundle, new ExitStatus { ExitCode = exitCode, ExitedAt = exitedAt });
        return 0;
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
        process.Exit.Start(TaskScheduler.Default);
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

        // No thread may be started here: this thread has unshared its PID namespace. The waiter starts later.
        var exit = new Task<int>(() => ProcessSpawner.WaitForExit(pid), TaskCreationOptions.LongRunning);
        using (syncRead)
        {
            startError = SyncPipe.ReadAll(syncRead);
        }

        var process = new InitProcess(pid, new FileStream(outRead, FileAccess.Read, 1), new FileStream(errRead, FileAccess.Read, 1), exit);
        return (process, startError);
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

    private static async Task PumpAsync(Stream source, CriStream stream, CriLogWriter? log, object gate)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = await source.ReadAsync(buffer)) > 0)
            {
                if (log is null)
                {
                    continue;
                }

                lock (gate)
                {
                    log.Write(stream, buffer.AsSpan(0, n));
                }
            }
        }
        catch (IOException)
        {
            // The pipe broke: the container is gone.
        }
    }

    private static void Reply(ShimReply reply)
    {
        var stdout = Console.OpenStandardOutput();
        stdout.Write([.. BundleJson.Write(reply), (byte)'\n']);
        stdout.Flush();
    }

    /// <summary>Points stdin and stdout at /dev/null so the launcher's pipe closes and it may exit.</summary>
    private static void DetachStdio() => FileDescriptors.RedirectToDevNull(0, 1);
}
