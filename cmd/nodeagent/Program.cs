using System.CommandLine;
using NodeAgent.Cli.Commands;

var rootDir = CommonOptions.RootDir;
var root = new RootCommand("NodeAgent: kubelet, kube-proxy and a container runtime in one program");
root.Options.Add(rootDir);
root.Options.Add(CommonOptions.RuntimeStateDir);
root.Options.Add(CommonOptions.LogRoot);
root.Options.Add(CommonOptions.CgroupRoot);
root.Subcommands.Add(CtrCommands.Build());
root.Subcommands.Add(ImagesCommands.Build());
root.Subcommands.Add(GetCommands.Build());
root.Subcommands.Add(NodeAgent.Cli.Agent.AgentCommand.Build());
root.Subcommands.Add(NetworkCommands.Build());
root.Subcommands.Add(ProxyCommand.Build());
var parsed = root.Parse(CtrCommands.SeparateRunCommand(args));

// The agent handles SIGTERM and SIGINT itself (a stop asked for is exit status 0, see AgentCommand); for the other
// commands System.CommandLine turns them into cancellation.
var invocation = new InvocationConfiguration();
if (parsed.CommandResult.Command.Name == "agent")
{
    invocation.ProcessTerminationTimeout = null;
}

return await parsed.InvokeAsync(invocation);
