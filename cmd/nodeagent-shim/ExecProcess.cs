using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using NodeAgent.ContainerSpec;
using NodeAgent.Linux;

namespace NodeAgent.Shim;

/// <summary>
/// <c>nodeagent-shim exec BUNDLE INIT_PIDFD SPEC_FD SYNC_FD</c>: one exec into a running container. The runtime
/// starts it already inside the container's net, ipc, uts and pid namespaces (setns on the init's pidfd before
/// spawning), as the leader of a new session, and moves it into the container's cgroups before it writes the spec.
/// Here it joins the mount and cgroup namespaces of the init (through the inherited pidfd, after unsharing its filesystem attributes), and finishes as
/// the init does (<see cref="ProcessImage"/>): cwd, user, groups, capabilities, no_new_privs from the container's own
/// config.json, then exec. Failures go to the sync pipe.
/// </summary>
internal static class ExecProcess
{
    public static int Run(string bundle, int initPidFd, int specFd, int syncFd)
    {
        try
        {
            ContainerSpec.ContainerSpec spec;
            SeccompStage seccomp;
            ExecSpec exec;
            int lastCap;
            using (var init = PidFd.Adopt(initPidFd))
            {
                (spec, seccomp, exec, lastCap) = Enter(bundle, init, specFd, syncFd);
            }

            if (exec.Tty)
            {
                OpenTerminal(exec);
            }

            return ProcessImage.Replace(spec, exec.Args, MergeEnvironment(spec.Process.Env, exec.Env), lastCap, seccomp, syncFd);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or InvalidDataException or JsonException)
        {
            SyncPipe.Report(syncFd, ex.Message);
            return 127;
        }
        catch (Exception ex)
        {
            SyncPipe.Report(syncFd, "exec failed: " + ex);
            return 127;
        }
    }

    /// <summary>
    /// What every exec helper (one-shot or resident) does first, already inside the container's net, ipc, uts and
    /// pid namespaces: non-dumpable, its own descriptors close-on-exec, the container's spec and seccomp filter read
    /// while the bundle is reachable, the exec spec read (the runtime writes it once it has moved us into the
    /// container's cgroups), then the init's mount and cgroup namespaces joined.
    /// </summary>
    public static (ContainerSpec.ContainerSpec Spec, SeccompStage Seccomp, ExecSpec Exec, int LastCap) Enter(string bundle, PidFd init, int specFd, int syncFd)
    {
        // Already inside the container's PID namespace, as host root: keep its processes out of /proc/<us> (exe, fd).
        ProcessControl.SetDumpable(false);
        FileDescriptors.SetCloseOnExec(syncFd, true);
        FileDescriptors.SetCloseOnExec((int)init.DangerousGetHandle(), true);
        var spec = Bundle.LoadSpec(bundle);
        var seccomp = SeccompStage.Load(bundle, spec);
        var exec = ReadExecSpec(specFd);
        var lastCap = Capabilities.LastCap();
        Namespaces.UnshareFilesystemAttributes();
        Namespaces.Join(init, NamespaceKind.Mount | NamespaceKind.Cgroup);
        return (spec, seccomp, exec, lastCap);
    }

    /// <summary>
    /// A pty of the container's own devpts (as runc makes one), so the command sees its terminal under its /dev/pts.
    /// The master goes back to the runtime on fd 0, a Unix socket; the peer replaces fds 0-2 and becomes the
    /// controlling terminal of this session.
    /// </summary>
    private static void OpenTerminal(ExecSpec exec)
    {
        var (master, peer) = Terminal.OpenPty("/dev/pts/ptmx");
        using (master)
        using (peer)
        {
            if (exec.Columns > 0 && exec.Rows > 0)
            {
                Terminal.SetWindowSize(master, exec.Columns, exec.Rows);
            }

            DescriptorPassing.Send(0, (int)master.DangerousGetHandle());
            for (var fd = 0; fd <= 2; fd++)
            {
                FileDescriptors.DuplicateOnto(peer, fd);
            }
        }

        Terminal.SetControllingTerminal(0);
    }

    private static ExecSpec ReadExecSpec(int fd)
    {
        using var stream = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, 1);
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return BundleJson.ReadExecSpec(bytes.GetBuffer().AsSpan(0, (int)bytes.Length), "exec spec");
    }

    /// <summary>The container's environment with the exec's variables overriding those of the same name.</summary>
    public static List<string> MergeEnvironment(IReadOnlyList<string> container, IReadOnlyList<string> extra)
    {
        var merged = new List<string>(container);
        foreach (var entry in extra)
        {
            var name = entry.Split('=', 2)[0] + "=";
            var at = merged.FindIndex(e => e.StartsWith(name, StringComparison.Ordinal));
            if (at >= 0)
            {
                merged[at] = entry;
            }
            else
            {
                merged.Add(entry);
            }
        }

        return merged;
    }
}
