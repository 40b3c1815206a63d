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
/// container's PID namespace) and the exec's process group can be killed as a whole. The shim finishes the entry
/// (cgroups, mount and cgroup namespaces, credentials) in its own single-purpose process and reports a failed start
/// on a close-on-exec sync pipe; end-of-file with nothing written means the command runs.
/// </summary>
internal sealed class ExecLauncher(string shimPath, ExitWatcher exits)
{
    private const NamespaceKind SpawnNamespaces = NamespaceKind.Network | NamespaceKind.Ipc | NamespaceKind.Uts | NamespaceKind.Pid;

    /// <param name="bundle">The container's state directory (config.json, state.json): the runtime's, never the container's to write.</param>
    /// <param name="name">The container as errors name it.</param>
    public async Task<ExecSession> StartAsync(string bundle, string name, ExecRequest request, CancellationToken cancellationToken)
    {
        if (request.Command.Count == 0 || string.IsNullOrEmpty(request.Command[0]))
        {
            throw new RuntimeException(RuntimeErrorKind.InvalidArgument, $"exec in container {name}: no command given");
        }

        if (!File.Exists(shimPath))
        {
            throw new FileNotFoundException($"container shim not found at {shimPath} (publish it with hack/publish-shim.sh or set NODEAGENT_SHIM)");
        }

        using var init = OpenInit(bundle, name);
        var stdio = ExecStdio.Create(request);
        try
        {
            var spec = JsonSerializer.SerializeToUtf8Bytes(
                new ExecSpec { Args = [.. request.Command], Env = [.. request.Env], Tty = request.Tty }, SpecJsonContext.Default.ExecSpec);
            var (specRead, specWrite) = FileDescriptors.CreatePipe();
            var (syncRead, syncWrite) = FileDescriptors.CreatePipe();
            int pid;
            using (specRead)
            using (syncWrite)
            {
                pid = Spawn(bundle, init, stdio, specRead, syncWrite);
            }

            stdio.CloseChildEnds();
            var childFd = PidFd.TryOpen(pid) ?? throw new InvalidOperationException($"exec helper {pid} vanished before it could be watched");
            var session = new ExecSession(pid, childFd, exits, stdio, request.Tty);
            string? error;
            try
            {
                await using (var writer = new FileStream(specWrite, FileAccess.Write, 1))
                {
                    await writer.WriteAsync(spec, cancellationToken);
                }

                await using var reader = new FileStream(syncRead, FileAccess.Read, 1);
                using var text = new StreamReader(reader);
                error = await text.ReadToEndAsync(cancellationToken);
            }
            catch
            {
                await session.DisposeAsync();
                throw;
            }

            if (error.Length > 0)
            {
                var code = await session.Exited;
                await session.DisposeAsync();
                throw new RuntimeException(RuntimeErrorKind.StartError, $"exec in container {name}: {error.Trim()} (exit code {code})");
            }

            return session;
        }
        catch
        {
            stdio.Dispose();
            throw;
        }
    }

    private int Spawn(string bundle, PidFd init, ExecStdio stdio, SafeFileHandle specRead, SafeFileHandle syncWrite)
    {
        var initFd = (int)init.DangerousGetHandle();
        var specFd = (int)specRead.DangerousGetHandle();
        var syncFd = (int)syncWrite.DangerousGetHandle();
        string[] args = [shimPath, "exec", bundle, Text(initFd), Text(specFd), Text(syncFd)];
        return Namespaces.RunOnDedicatedThread(() =>
        {
            Namespaces.Join(init, SpawnNamespaces);
            return ProcessSpawner.Spawn(shimPath, args, [], stdio.ChildStdio, [initFd, specFd, syncFd], newSession: true);
        });
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
