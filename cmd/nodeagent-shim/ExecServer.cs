using Microsoft.Win32.SafeHandles;
using NodeAgent.ContainerSpec;
using NodeAgent.Linux;

namespace NodeAgent.Shim;

/// <summary>
/// <c>nodeagent-shim exec-server BUNDLE INIT_PIDFD SPEC_FD SYNC_FD SOCKET_FD</c>: a container's resident exec
/// helper. The runtime starts it exactly as a one-shot <c>exec</c> (inside the container's net, ipc, uts and pid
/// namespaces, as a session leader, moved into the container's cgroups before the spec pipe is written); it enters
/// the rest of the container once, as <see cref="ExecProcess"/> does for one command (mount and cgroup namespaces,
/// working directory, oom_score_adj, user, groups, capabilities, no_new_privs, the seccomp filter), closes the sync
/// pipe with nothing written, and then serves the runtime on a SOCK_SEQPACKET socket: each command is posix_spawned
/// as the leader of a new session, so it inherits every one of those attributes with no setns, no cgroup migration
/// and no .NET start-up. One thread, one poll loop over the socket, the init's pidfd and one pidfd per running
/// command. It ends when the runtime closes the socket, when the init exits (the container stopped), or after
/// <see cref="IdleTimeout"/> with nothing running; its commands' process groups are killed then.
/// </summary>
internal static class ExecServer
{
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(5);

    private const int SIGKILL = 9;

    private sealed record Child(int Id, int Pid, PidFd PidFd);

    public static int Run(string bundle, int initPidFd, int specFd, int syncFd, int socketFd)
    {
        SafeFileHandle socket;
        PidFd init;
        ContainerSpec.ContainerSpec spec;
        try
        {
            FileDescriptors.SetCloseOnExec(socketFd, true);
            socket = new SafeFileHandle(socketFd, ownsHandle: true);
            init = PidFd.Adopt(initPidFd);
            (spec, var seccomp, _, var lastCap) = ExecProcess.Enter(bundle, init, specFd, syncFd);
            ProcessImage.SetUp(spec);
            ProcessImage.TakeCredentials(spec, lastCap, seccomp, stays: true);
            ProcessControl.SetDumpable(false); // a change of credentials may have reset it
        }
        catch (Exception ex)
        {
            SyncPipe.Report(syncFd, "exec server: " + ex.Message);
            return 127;
        }

        new SafeFileHandle(syncFd, ownsHandle: true).Dispose(); // closed with nothing written: ready
        return Serve(socket, init, spec.Process.Env);
    }

    private static int Serve(SafeFileHandle socket, PidFd init, IReadOnlyList<string> containerEnv)
    {
        var children = new List<Child>();
        var buffer = new byte[ExecServerMessages.MaxMessageBytes];
        var fds = new List<SafeFileHandle>(PacketSockets.MaxDescriptors);
        var handles = new List<System.Runtime.InteropServices.SafeHandle>();
        var ready = new bool[8];
        try
        {
            while (true)
            {
                handles.Clear();
                handles.Add(socket);
                handles.Add(init);
                handles.AddRange(children.Select(c => c.PidFd));
                if (ready.Length < handles.Count)
                {
                    ready = new bool[handles.Count * 2];
                }

                var timeout = children.Count == 0 ? (int)IdleTimeout.TotalMilliseconds : -1;
                if (Readiness.WaitReadable(handles, ready, timeout) == 0)
                {
                    return 0; // idle
                }

                if (ready[1])
                {
                    return 0; // the container's init exited
                }

                for (var i = children.Count - 1; i >= 0; i--)
                {
                    if (ready[2 + i])
                    {
                        var child = children[i];
                        children.RemoveAt(i);
                        var code = ProcessSpawner.WaitForExit(child.Pid);
                        child.PidFd.Dispose();
                        Send(socket, ExecServerMessages.Reply(ExecServerReplyKind.Exited, child.Id, code));
                    }
                }

                if (ready[0])
                {
                    fds.Clear();
                    int n;
                    try
                    {
                        n = PacketSockets.Receive(socket, buffer, fds);
                    }
                    catch (InvalidDataException)
                    {
                        continue; // dropped; its descriptors are closed
                    }

                    if (n <= 0)
                    {
                        return 0; // the runtime closed its end
                    }

                    try
                    {
                        Handle(socket, buffer.AsSpan(0, n), fds, children, containerEnv);
                    }
                    finally
                    {
                        foreach (var fd in fds)
                        {
                            fd.Dispose();
                        }
                    }
                }
            }
        }
        catch (IOException)
        {
            return 0; // the runtime is gone
        }
        finally
        {
            foreach (var child in children)
            {
                TryKillGroup(child.Pid);
                child.PidFd.Dispose();
            }
        }
    }

    private static void Handle(SafeFileHandle socket, ReadOnlySpan<byte> message, List<SafeFileHandle> fds, List<Child> children, IReadOnlyList<string> containerEnv)
    {
        if (!ExecServerMessages.TryParseRequest(message, out var kind, out var id, out var flags, out var exec))
        {
            return;
        }

        if (kind == ExecServerRequestKind.Kill)
        {
            if (children.Find(c => c.Id == id) is { } child)
            {
                TryKillGroup(child.Pid);
            }

            return;
        }

        var hasStdin = (flags & ExecServerMessages.HasStdin) != 0;
        if (fds.Count != (hasStdin ? 3 : 2) || exec!.Tty)
        {
            Send(socket, ExecServerMessages.Reply(ExecServerReplyKind.Failed, id, 127, "exec server: malformed request"));
            return;
        }

        string executable;
        var env = ExecProcess.MergeEnvironment(containerEnv, exec.Env);
        try
        {
            executable = ExecutableLookup.Resolve(exec.Args, env);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            Send(socket, ExecServerMessages.Reply(ExecServerReplyKind.Failed, id, 127, ex.Message));
            return;
        }

        int pid;
        try
        {
            var stdio = new SpawnStdio(hasStdin ? Fd(fds[2]) : -1, Fd(fds[0]), Fd(fds[1]));
            pid = ProcessSpawner.Spawn(executable, exec.Args, env, stdio, [], newSession: true);
        }
        catch (LinuxException ex)
        {
            Send(socket, ExecServerMessages.Reply(ExecServerReplyKind.Failed, id, 126, $"exec {executable}: {LinuxException.Describe(ex.Errno)}"));
            return;
        }

        var pidFd = PidFd.TryOpen(pid) ?? throw new InvalidOperationException($"exec server: child {pid} vanished before it was reaped");
        children.Add(new Child(id, pid, pidFd));
        Send(socket, ExecServerMessages.Reply(ExecServerReplyKind.Started, id, pid));
    }

    private static int Fd(SafeFileHandle handle) => (int)handle.DangerousGetHandle();

    private static void Send(SafeFileHandle socket, byte[] message) =>
        PacketSockets.Send(socket, message, [], TimeSpan.FromSeconds(30));

    private static void TryKillGroup(int pid)
    {
        try
        {
            ProcessControl.KillGroup(pid, SIGKILL);
        }
        catch (LinuxException)
        {
            // Gone, or not ours to signal any more.
        }
    }
}
