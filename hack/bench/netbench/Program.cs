using System.Diagnostics;
using System.Globalization;
using NodeAgent.Linux;
using NodeAgent.Network.Bridge;
using NodeAgent.Network.Cni;
using NodeAgent.Cri;

// Times sandbox network set-up in the caller's network namespace: NodeAgent's built-in bridge network against the
// CNI plugins of --cni-conf-dir, each on --count fresh pinned namespaces (the first of each is warm-up: it also
// creates the bridge and base rules). Prints "setup NAME n=N p50_ms=X p95_ms=Y", and "pod NETNS IP" for the first
// --keep built-in pods, which stay up (for the throughput test of hack/bench/pod-network).
//   netbench --root-dir DIR [--count 50] [--keep 0] [--pod-cidr CIDR] [--cni-conf-dir DIR] [--cni-bin-dir DIRS]
var arg = ParseArgs(args);
var root = arg.GetValueOrDefault("--root-dir") ?? throw new ArgumentException("--root-dir is required");
var count = int.Parse(arg.GetValueOrDefault("--count") ?? "50", CultureInfo.InvariantCulture);
var keep = int.Parse(arg.GetValueOrDefault("--keep") ?? "0", CultureInfo.InvariantCulture);
var nsDir = Path.Combine(root, "bench-netns");
Directory.CreateDirectory(nsDir);
using var bridge = new BridgeNetwork(new BridgeNetworkOptions
{
    PodCidr = arg.GetValueOrDefault("--pod-cidr") ?? "10.88.0.0/16",
    StateDir = Path.Combine(root, "network"),
});
var cni = new CniNetwork(new CniOptions
{
    ConfDir = arg.GetValueOrDefault("--cni-conf-dir") ?? "/etc/cni/net.d",
    BinDirs = (arg.GetValueOrDefault("--cni-bin-dir") ?? "/opt/cni/bin").Split(':', StringSplitOptions.RemoveEmptyEntries),
    StateDir = Path.Combine(root, "network", "cni"),
});
var builtin = await TimeAsync("builtin", bridge, count, nsDir, keep);
var plugins = await TimeAsync("cni", cni, count, nsDir, 0);
Report("builtin", builtin);
Report("cni-bridge", plugins);
return 0;

static async Task<List<double>> TimeAsync(string name, IPodNetwork network, int count, string nsDir, int keep)
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
        var status = await network.SetUpAsync(request, CancellationToken.None);
        sw.Stop();
        made.Add(request);
        if (i > 0)
        {
            times.Add(sw.Elapsed.TotalMilliseconds);
        }

        if (i < keep)
        {
            Console.WriteLine($"pod {netns} {status.Ips[0]}");
        }
    }

    foreach (var request in made.Skip(keep))
    {
        await network.TearDownAsync(request, CancellationToken.None);
        NetworkNamespace.RemovePinned(request.NetnsPath);
    }

    return times;
}

static void Report(string name, List<double> times)
{
    times.Sort();
    double P(double q) => times[Math.Min(times.Count - 1, (int)Math.Ceiling(q * times.Count) - 1)];
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"setup {name} n={times.Count} p50_ms={P(0.5):F3} p95_ms={P(0.95):F3}"));
}

static Dictionary<string, string> ParseArgs(string[] args)
{
    var result = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i < args.Length; i++)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
        {
            throw new ArgumentException($"expected --name value, found \"{args[i]}\"");
        }

        result[args[i]] = args[++i];
    }

    return result;
}
