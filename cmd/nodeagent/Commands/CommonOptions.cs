using System.CommandLine;

namespace NodeAgent.Cli.Commands;

/// <summary>Options every command accepts.</summary>
internal static class CommonOptions
{
    public static readonly Option<string> RootDir = new("--root-dir")
    {
        Description = "Directory for NodeAgent's state (images, containers, sandboxes)",
        DefaultValueFactory = _ => "/var/lib/nodeagent",
        Recursive = true,
    };

    public static readonly Option<string?> RuntimeStateDir = new("--runtime-state-dir")
    {
        Description = "Directory for the runtime's volatile state (containers, sandboxes; tmpfs on a usual host). " +
            "Default: /run/nodeagent with the default --root-dir, else the --root-dir itself",
        Recursive = true,
    };

    public static readonly Option<string> LogRoot = new("--pod-log-dir")
    {
        Description = "Directory of container logs (kubelet's /var/log/pods)",
        DefaultValueFactory = _ => "/var/log/pods",
        Recursive = true,
    };

    public static readonly Option<string> CgroupRoot = new("--cgroup-root")
    {
        Description = "Cgroup under which pods and containers are placed (kubelet's --cgroup-root); empty means the hierarchy root",
        DefaultValueFactory = _ => string.Empty,
        Recursive = true,
    };
}
