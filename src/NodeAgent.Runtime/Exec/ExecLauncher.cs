using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using NodeAgent.ContainerSpec;
using NodeAgent.Cri;
using NodeAgent.Linux;
using NodeAgent.Runtime.Supervision;

namespace NodeAgent.Runtime.Exec;

/// <summary>
/// Starts <c>nodeagent-shim exec</c> for one exec into a running container. On a dedicated thread that ends
/// afterwards, it joins the net, ipc, uts and pid namespaces of the container's init (setns on the init's pidfd) and
/// posix_spawns the AOT shim as the leader of a new session, so the shim starts inside them (as a member of the
/// container's PID namespace) and the exec's process group can be killed as a whole; it moves the shim into the
/// container's cgroups (from the container's config.json) before handing it the exec's spec. The shim finishes the
/// entry (mount and cgroup namespaces, credentials) in its own single-purpose process and reports a failed start
/// on a close-on-exec sync pipe; end-of-file with nothing written means the command runs.
/// </summary>
internal sealed class ExecLauncher(string shimPath, ExitWatcher exits)
{
    private const NamespaceKind SpawnNamespaces = NamespaceKind.Network | NamespaceKind.Ipc | NamespaceKind.Uts | NamespaceKind.Pid;

    /// <param name="bundle">The container's state directory (config.json, state.json): the runtime's, never the container's to write.</param>
    /// <param name="name">The container as errors name it.</param>
    public async Task<ExecSession> StartAsync(string bundle, string name, ExecRequest request, CancellationToken cancellationToken)
    {
        CheckCommand(name, request);
        using var init = OpenInit(bundle, name);
        var cgroups = Bundle.ReadSpec(bundle)?.CgroupProcsFiles ?? throw NotRunning(name);
        var spec = BundleJson.Write(ExecServerConnection.SpecOf(request));
        var stdio = ExecStdio.Create(request);
        try
        {
            var (pid, error) = await SpawnHelperAsync(bundle, init, HelperMode.Exec, stdio, cgroups, spec, socket: null);
            var childFd = PidFd.TryOpen(pid) ?? throw new InvalidOperationException($"exec helper {pid} vanished before it could be watched");
            var session = new ExecSession(pid, childFd, exits, stdio, request.Tty);
            if (error.Length > 0)
            {
                var code = await session.Exited;
                await session.DisposeAsync();
                throw new RuntimeException(RuntimeErrorKind.StartError, $"exec in container {name}: {error.Trim()} (exit code {code})");
            }

            if (cancellationToken.IsCancellationRequested)
            {
                await session.DisposeAsync();
                cancellationToken.ThrowIfCancellationRequested();
            }

            return session;
        }
        catch
        {
            stdio.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Starts the container's resident exec server (<c>nodeagent-shim exec-server</c>), entered exactly as a
    /// one-shot helper is; null (with the reason) when it could not start, and the caller uses one-shot helpers.
    /// </summary>
    public async Task<(ExecServerConnection? Server, string Error)> StartServerAsync(string bundle, string name)
    {
        using var init = OpenInit(bundle, name);
        var cgroups = Bundle.ReadSpec(bundle)?.CgroupProcsFiles ?? throw NotRunning(name);
        var spec = BundleJson.Write(new ExecSpec { Args = ["exec-server"] });
        var (ours, theirs) = PacketSockets.CreatePair();
        using var nullDevice = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.ReadWrite);
        var fd = (int)nullDevice.DangerousGetHandle();
        using var stdio = ExecStdio.ForHelper(new SpawnStdio(-1, fd, fd), theirs);
        int pid;
        string error;
        try
        {
            (pid, error) = await SpawnHelperAsync(bundle, init, HelperMode.Server, stdio, cgroups, spec, theirs);
        }
        catch
        {
            ours.Dispose();
            throw;
        }

        var pidFd = PidFd.TryOpen(pid) ?? throw new InvalidOperationException($"exec server {pid} vanished before it could be watched");
        var server = new ExecServerConnection(name, pid, pidFd, ours, exits);
        if (error.Length > 0)
        {
            await server.DisposeAsync();
            return (null, error.Trim());
        }

        return (server, "");
    }

    public static void CheckCommand(string name, ExecRequest request)
    {
        if (request.Command.Count == 0 || string.IsNullOrEmpty(request.Command[0]))
        {
            throw new RuntimeException(RuntimeErrorKind.InvalidArgument, $"exec in container {name}: no command given");
        }
    }

    private enum HelperMode
    {
        Exec,
        Server,
    }

    private async Task<(int Pid, string Error)> SpawnHelperAsync(string bundle, PidFd init, HelperMode mode, ExecStdio stdio, IReadOnlyList<string> cgroups, byte[] spec, SafeFileHandle? socket)
    {
        if (!File.Exists(shimPath))
        {
            throw new FileNotFoundException($"container shim not found at {shimPath} (publish it with hack/publish-shim.sh or set NODEAGENT_SHIM)");
        }

        var (specRead, specWrite) = FileDescriptors.CreatePipe();
        var (syncRead, syncWrite) = FileDescriptors.CreatePipe();
        using (specRead)
        using (specWrite)
        using (syncRead)
        using (syncWrite)
        {
            var pipes = new StartPipes(specRead, specWrite, syncRead, syncWrite);
            return await Namespaces.RunOnDedicatedThreadAsync(() => Start(bundle, init, mode, stdio, cgroups, spec, pipes, socket));
        }
    }

    private sealed record StartPipes(SafeFileHandle SpecRead, SafeFileHandle SpecWrite, SafeFileHandle SyncRead, SafeFileHandle SyncWrite);

    /// <summary>
    /// On its own thread, which ends afterwards: spawns the helper inside the init's namespaces, moves it into the
    /// container's cgroups while it starts (the first cgroup.procs write waits for an RCU grace period; the helper's
    /// start-up runs meanwhile, blocked on the spec pipe until it is in), hands it the spec and reads the sync pipe
    /// to its end. Returns the PID and the helper's error text (empty: the command runs).
    /// </summary>
    private (int Pid, string Error) Start(string bundle, PidFd init, HelperMode mode, ExecStdio stdio, IReadOnlyList<string> cgroups, byte[] spec, StartPipes pipes, SafeFileHandle? socket)
    {
        var initFd = (int)init.DangerousGetHandle();
        var specFd = (int)pipes.SpecRead.DangerousGetHandle();
        var syncFd = (int)pipes.SyncWrite.DangerousGetHandle();
        var socketFd = socket is null ? -1 : (int)socket.DangerousGetHandle();
        string[] args = mode == HelperMode.Exec
            ? [shimPath, "exec", bundle, Text(initFd), Text(specFd), Text(syncFd)]
            : [shimPath, "exec-server", bundle, Text(initFd), Text(specFd), Text(syncFd), Text(socketFd)];
        int[] inherited = mode == HelperMode.Exec ? [initFd, specFd, syncFd] : [initFd, specFd, syncFd, socketFd];

        // The spawn gets a thread of its own: one that joined a PID namespace cannot create threads, and this one
        // completes a task (which may start a thread-pool thread) when it is done.
        var pid = Namespaces.RunOnDedicatedThread(() =>
        {
            Namespaces.Join(init, SpawnNamespaces);
            return ProcessSpawner.Spawn(shimPath, args, [], stdio.ChildStdio, inherited, newSession: true);
        });
        pipes.SpecRead.Dispose();
        pipes.SyncWrite.Dispose();
        stdio.CloseChildEnds();
        try
        {
            foreach (var procs in cgroups)
            {
                ProcessControl.MoveToCgroup(procs, pid);
            }
        }
        catch (LinuxException)
        {
            ProcessControl.Kill(pid, Signals.SIGKILL);
            ProcessSpawner.WaitForExit(pid);
            throw;
        }

        FileDescriptors.WriteAll((int)pipes.SpecWrite.DangerousGetHandle(), spec);
        pipes.SpecWrite.Dispose();
        if (stdio.TerminalChannel is not null)
        {
            // A helper that fails first closes the socket without a descriptor; its error is on the sync pipe.
            stdio.AttachTerminal();
        }

        using var reader = new StreamReader(new FileStream(pipes.SyncRead, FileAccess.Read, 1));
        return (pid, reader.ReadToEnd());
    }

    /// <summary>
    /// A pidfd of the container's init, checked to be the process the container's own shim started (against PID
    /// reuse: the check follows the open, and a pidfd never refers to another process).
    /// </summary>
    private static PidFd OpenInit(string bundle, string name)
    {
        var state = Bundle.ReadState(bundle);
        if (state is null || Bundle.ReadExit(bundle) is not null)
        {
            throw NotRunning(name);
        }

        var init = PidFd.TryOpen(state.Pid) ?? throw NotRunning(name);
        if (ParentOf(state.Pid) != state.ShimPid || !ExitTracker.IsShimOf(state.ShimPid, bundle))
        {
            init.Dispose();
            throw NotRunning(name);
        }

        return init;
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("PPid:", StringComparison.Ordinal))
                {
                    return int.Parse(line.AsSpan(5).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
            // Gone.
        }

        return null;
    }

    private static RuntimeException NotRunning(string name) =>
        new(RuntimeErrorKind.FailedPrecondition, $"exec in container {name}: container is not running");

    private static string Text(int fd) => fd.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
