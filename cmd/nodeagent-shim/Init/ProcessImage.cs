using NodeAgent.Linux;

namespace NodeAgent.Shim;

/// <summary>
/// The last steps before a container's process runs, the same for its init and for every exec into it: working
/// directory, oom_score_adj, executable lookup in the container's PATH, credentials (user, groups, capabilities, no_new_privs) with the seccomp filter at runc's point,
/// then execve on the calling thread. Called inside the container's namespaces, after pivot_root or setns.
/// </summary>
internal static class ProcessImage
{
    /// <summary>Returns only when exec failed, with the exit code to use; the reason is on the sync pipe.</summary>
    public static int Replace(ContainerSpec.ContainerSpec spec, IReadOnlyList<string> args, IReadOnlyList<string> env, int lastCap, SeccompStage seccomp, int syncFd)
    {
        if (spec.Process.OomScoreAdj is { } adj)
        {
            File.WriteAllText("/proc/self/oom_score_adj", adj.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        ProcessControl.ChangeDirectory(spec.Process.Cwd);
        var executable = ExecutableLookup.Resolve(args, env);
        seccomp.BeforeCredentials();
        Credentials.Apply(spec, lastCap);
        seccomp.BeforeExec();
        var errno = ProcessControl.Exec(executable, args, env);
        SyncPipe.Report(syncFd, $"exec {executable}: {LinuxException.Describe(errno)}");
        return 126;
    }
}
