using NodeAgent.Linux;

namespace NodeAgent.Shim;

/// <summary>
/// The container's seccomp filter, read from the bundle while it is still reachable (before pivot_root, or before
/// an exec joins the container's mount namespace) and installed where runc installs it: with no_new_privs, last,
/// just before execve, so that as few of our own calls as possible run under the container's filter; without it,
/// before the credentials are applied, because installing a filter then needs CAP_SYS_ADMIN, which dropping the
/// container's capabilities may remove. The init and every exec go through the same stage, so an exec gets exactly
/// the init's filter.
/// </summary>
internal sealed class SeccompStage
{
    private readonly byte[]? _program;
    private readonly bool _noNewPrivileges;

    private SeccompStage(byte[]? program, bool noNewPrivileges)
    {
        _program = program;
        _noNewPrivileges = noNewPrivileges;
    }

    /// <summary>The program named by the spec (a file of the bundle), or none for an unconfined container.</summary>
    public static SeccompStage Load(string bundle, ContainerSpec.ContainerSpec spec)
    {
        if (spec.SeccompFilter is not { Length: > 0 } name)
        {
            return new SeccompStage(null, false);
        }

        if (name.Contains('/') || name is "." or "..")
        {
            throw new InvalidDataException($"seccomp filter \"{name}\": not a file name of the bundle");
        }

        return new SeccompStage(File.ReadAllBytes(Path.Combine(bundle, name)), spec.Process.NoNewPrivileges);
    }

    /// <summary>Without no_new_privs: install now, while the process still holds CAP_SYS_ADMIN.</summary>
    public void BeforeCredentials()
    {
        if (_program is not null && !_noNewPrivileges)
        {
            SeccompFilter.Install(_program);
        }
    }

    /// <summary>With no_new_privs (set by the credentials): install as the last step before execve.</summary>
    public void BeforeExec()
    {
        if (_program is not null && _noNewPrivileges)
        {
            SeccompFilter.Install(_program);
        }
    }
}
