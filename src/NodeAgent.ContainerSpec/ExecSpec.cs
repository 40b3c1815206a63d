namespace NodeAgent.ContainerSpec;

/// <summary>
/// One exec into a running container, handed by the runtime to <c>nodeagent-shim exec</c> on a pipe (never through a
/// file or the command line). Everything else (user, groups, capabilities, no_new_privs, cwd, base environment,
/// namespaces, cgroups) comes from the container's own <c>config.json</c> and its init.
/// </summary>
public sealed class ExecSpec
{
    public required List<string> Args { get; set; }

    /// <summary>Extra <c>NAME=value</c> entries; they override the container's variables of the same name.</summary>
    public List<string> Env { get; set; } = [];

    /// <summary>Stdin, stdout and stderr are a terminal: it becomes the exec's controlling terminal.</summary>
    public bool Tty { get; set; }
}
