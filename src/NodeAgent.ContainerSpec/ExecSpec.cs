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

    /// <summary>
    /// Run on a terminal of the container's own devpts: the helper opens it inside the container, sends the master
    /// back on its stdin (a Unix socket) and makes the peer its stdin, stdout, stderr and controlling terminal.
    /// </summary>
    public bool Tty { get; set; }

    /// <summary>The terminal's size before the command starts (0: left as the kernel makes it).</summary>
    public ushort Columns { get; set; }

    public ushort Rows { get; set; }
}
