using System.CommandLine;
using System.Diagnostics;
using NodeAgent.Cli.Agent;
using NodeAgent.Linux;
using NodeAgent.Network.Bridge;
using NodeAgent.Network.Cni;
using NodeAgent.Cri;

namespace NodeAgent.Cli.Commands;

/// <summary>
/// <c>nodeagent network</c>: <c>cleanup</c> removes what the built-in pod network made on this node (its iptables
/// chains, the bridge, the address allocations); <c>bench</c> (hidden, for hack/bench/pod-network) times sandbox
/// network set-up, built-in against the CNI plugins, in the caller's network namespace.
/// </summary>
internal static class NetworkCommands
{
    public static Command Build()
    {
        var network = new Command("network", "Manage the pod network");
        network.Subcommands.Add(BuildCleanup());
        network.Subcommands.Add(BuildBench());
        return network;
    }

    private static Command BuildCleanup()
    {
        var cmd = new Command("cleanup", "Remove the agent's iptables chains, bridge and address allocations");
        NetworkFlags.AddTo(cmd);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            var root = pr.GetValue(CommonOptions.RootDir)!;
            using var bridge = new BridgeNetwork(NetworkFlags.BridgeOptions(pr, root));
            await bridge.CleanupAsync(ct);
            Console.WriteLine($"removed bridge {pr.GetValue(NetworkFlags.BridgeName)}, the NODEAGENT-* iptables chains and {NetworkFlags.StateDir(root)}");
            return 0;
        }));
        return cmd;
    }

    private static Command BuildBench()
    {
        var count = new Option<int>("--count") { DefaultValueFactory = _ => 50 };
        var keep = new Option<int>("--keep") { Description = "Built-in pods left running (their netns and IP printed)", DefaultValueFactory = _ => 0 };
        var cmd = new Command("bench", "Time pod network set-up: built-in bridge vs CNI plugins") { Hidden = true };
        cmd.Options.Add(count);
        cmd.Options.Add(keep);
        NetworkFlags.AddTo(cmd);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            var root = pr.GetValue(CommonOptions.RootDir)!;
            var n = pr.GetValue(count);
            var nsDir = Path.Combine(root, "bench-netns");
            Directory.CreateDirectory(nsDir);
            using var bridge = new BridgeNetwork(NetworkFlags.BridgeOptions(pr, root));
            var cni = new CniNetwork(NetworkFlags.CniOptions(pr, root));
            var builtin = await TimeAsync("builtin", bridge, n, nsDir, pr.GetValue(keep), ct);
            var plugins = await TimeAsync("cni", cni, n, nsDir, 0, ct);
            Report("builtin", builtin);
            Report("cni-bridge", plugins);
            return 0;
        }));
        return cmd;
    }

    private static async Task<List<double>> TimeAsync(string name, IPodNetwork network, int count, string nsDir, int keep, CancellationToken ct)
    {
        var times = new List<double>();
        var made = new List<PodNetworkRequest>();
        for (var i = 0; i <= count; i++)
        {
            var id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            var netns = Path.Combine(nsDir, $"{name}-{i}");
            NetworkNamespace.CreatePinned(netns);
            var request = new PodNetworkRequest { SandboxId = id, NetnsPath = netns, PodName = $"bench-{i}", PodNamespace = "bench", PodUid = id };
            var sw = Stopwatch.StartNew();
            var status = await network.SetUpAsync(request, ct);
            sw.Stop();
            made.Add(request);
            if (i > 0)
            {
                // The first one also creates the bridge and the base rules: warm-up, not counted.
                times.Add(sw.Elapsed.TotalMilliseconds);
            }

            if (i < keep)
            {
                Console.WriteLine($"pod {netns} {status.Ips[0]}");
            }
        }

        foreach (var request in made.Skip(keep))
        {
            await network.TearDownAsync(request, ct);
            NetworkNamespace.RemovePinned(request.NetnsPath);
        }

        return times;
    }

    private static void Report(string name, List<double> times)
    {
        times.Sort();
        double P(double q) => times[Math.Min(times.Count - 1, (int)Math.Ceiling(q * times.Count) - 1)];
        Console.WriteLine($"setup {name} n={times.Count} p50_ms={P(0.5):F3} p95_ms={P(0.95):F3}");
    }
}
