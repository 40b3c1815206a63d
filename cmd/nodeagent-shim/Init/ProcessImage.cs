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
        SetUp(spec);
        var executable = ExecutableLookup.Resolve(args, env);
        TakeCredentials(spec, lastCap, seccomp, stays: false);
        var errno = ProcessControl.Exec(executable, args, env);
        SyncPipe.Report(syncFd, $"exec {executable}: {LinuxException.Describe(errno)}");
        return 126;
    }

    /// <summary>oom_score_adj and the working directory.</summary>
    public static void SetUp(ContainerSpec.ContainerSpec spec)
    {
        if (spec.Process.OomScoreAdj is { } adj)
        {
            File.WriteAllText("/proc/self/oom_score_adj", adj.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        ProcessControl.ChangeDirectory(spec.Process.Cwd);
    }

    /// <summary>
    /// User, groups, capabilities and no_new_privs with the seccomp filter at runc's points. A process that
    /// <paramref name="stays"/> (the exec server) then holds the sets its commands' init has after its exec.
    /// </summary>
    public static void TakeCredentials(ContainerSpec.ContainerSpec spec, int lastCap, SeccompStage seccomp, bool stays)
    {
        seccomp.BeforeCredentials();
        Credentials.Apply(spec, lastCap);
        if (stays)
        {
            Credentials.AsAfterExec(spec, lastCap);
        }

        seccomp.BeforeExec();
    }
}
