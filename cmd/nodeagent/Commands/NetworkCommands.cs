using System.CommandLine;
using NodeAgent.Cli.Agent;
using NodeAgent.Network.Bridge;

namespace NodeAgent.Cli.Commands;

/// <summary>
/// <c>nodeagent network cleanup</c> removes what the built-in pod network made on this node (its iptables chains,
/// the bridge, the address allocations). The set-up benchmark lives in hack/bench/pod-network, not here.
/// </summary>
internal static class NetworkCommands
{
    public static Command Build()
    {
        var network = new Command("network", "Manage the pod network");
        network.Subcommands.Add(BuildCleanup());
        return network;
    }

    private static Command BuildCleanup()
    {
        var cmd = new Command("cleanup", "Remove the agent's iptables chains, bridge and address allocations");
        NetworkFlags.AddTo(cmd);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            var options = AgentOptionsResolver.Resolve(pr, new List<string>());
            using var bridge = new BridgeNetwork(NetworkFlags.BridgeOptions(options));
            await bridge.CleanupAsync(ct);
            Console.WriteLine($"removed bridge {options.BridgeName}, the NODEAGENT-* iptables chains and {NetworkFlags.StateDir(options.RootDir)}");
            return 0;
        }));
        return cmd;
    }
}
