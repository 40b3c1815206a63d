using System.CommandLine;
using Microsoft.Extensions.Logging;
using NodeAgent.Network.Bridge;
using NodeAgent.Network.Cni;
using NodeAgent.Cri;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// The pod network flags (kubelet's names where kubelet has one) and the factory that turns them into the
/// runtime's <see cref="IPodNetwork"/>: the built-in bridge by default, CNI plugins with <c>--network-plugin=cni</c>,
/// none with <c>--network-plugin=none</c> (sandboxes get loopback only).
/// </summary>
internal static class NetworkFlags
{
    public static readonly Option<string> PodCidr = new("--pod-cidr") { Description = "The node's pod CIDR (built-in network)", DefaultValueFactory = _ => "10.88.0.0/16" };

    public static readonly Option<string> NetworkPlugin = new("--network-plugin") { Description = "Pod network: bridge (built-in, default), cni or none", DefaultValueFactory = _ => "bridge" };

    public static readonly Option<string> CniConfDir = new("--cni-conf-dir") { Description = "CNI network configurations (the first one is used)", DefaultValueFactory = _ => "/etc/cni/net.d" };

    public static readonly Option<string> CniBinDir = new("--cni-bin-dir") { Description = "CNI plugin binaries, ':'-separated (Debian's are in /usr/lib/cni)", DefaultValueFactory = _ => "/opt/cni/bin" };

    public static readonly Option<string> BridgeName = new("--bridge-name") { Description = "Bridge of the built-in network", DefaultValueFactory = _ => "nodeagent0" };

    public static readonly Option<int> Mtu = new("--network-mtu") { Description = "MTU of the bridge and pod interfaces", DefaultValueFactory = _ => 1500 };

    public static readonly Option<string[]> ClusterDns = new("--cluster-dns") { Description = "Cluster DNS server addresses for ClusterFirst pods", AllowMultipleArgumentsPerToken = true };

    public static readonly Option<string> ClusterDomain = new("--cluster-domain") { Description = "The cluster's DNS domain", DefaultValueFactory = _ => "cluster.local" };

    public static readonly Option<string> ResolvConf = new("--resolv-conf") { Description = "resolv.conf for dnsPolicy Default pods; empty for none", DefaultValueFactory = _ => "/etc/resolv.conf" };

    public static readonly Option<string> CheckFrequency = new("--network-check-frequency") { Description = "Period of the pod network check (CNI CHECK) of every running sandbox", DefaultValueFactory = _ => "1m" };

    public static IEnumerable<Option> All => [PodCidr, NetworkPlugin, CniConfDir, CniBinDir, BridgeName, Mtu, ClusterDns, ClusterDomain, ResolvConf, CheckFrequency];

    /// <summary>The <c>--network-check-frequency</c> period.</summary>
    public static TimeSpan CheckPeriod(ParseResult pr) => KubeletFlags.Duration(pr, CheckFrequency);

    public static void AddTo(Command command)
    {
        foreach (var option in All)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>State of the network under the root directory.</summary>
    public static string StateDir(string rootDir) => Path.Combine(rootDir, "network");

    public static BridgeNetworkOptions BridgeOptions(ParseResult pr, string rootDir, string? nodeNetns = null) => new()
    {
        PodCidr = pr.GetValue(PodCidr)!,
        BridgeName = pr.GetValue(BridgeName)!,
        Mtu = pr.GetValue(Mtu),
        StateDir = StateDir(rootDir),
        NodeNetns = nodeNetns,
    };

    public static CniOptions CniOptions(ParseResult pr, string rootDir, string? nodeNetns = null) => new()
    {
        ConfDir = pr.GetValue(CniConfDir)!,
        BinDirs = pr.GetValue(CniBinDir)!.Split(':', StringSplitOptions.RemoveEmptyEntries),
        StateDir = Path.Combine(StateDir(rootDir), "cni"),
        NodeNetns = nodeNetns,
    };

    /// <summary>The pod network the flags ask for; null for <c>none</c>. Bad values fail with a message naming the flag.</summary>
    public static IPodNetwork? CreatePodNetwork(ParseResult pr, string rootDir, ILoggerFactory? logging = null)
    {
        try
        {
            return pr.GetValue(NetworkPlugin) switch
            {
                "bridge" or "" or null => new BridgeNetwork(BridgeOptions(pr, rootDir), logging?.CreateLogger<BridgeNetwork>()),
                "cni" => new CniNetwork(CniOptions(pr, rootDir)),
                "none" => null,
                var other => throw new FormatException($"--network-plugin {other}: expected bridge, cni or none"),
            };
        }
        catch (FormatException ex)
        {
            throw new InvalidOperationException(ex.Message, ex);
        }
    }

    /// <summary>The DNS flags, for the kubelet's <c>PodDnsOptions</c> (servers, cluster domain, resolv.conf for Default).</summary>
    public static (IReadOnlyList<string> ClusterDns, string ClusterDomain, string ResolvConf) Dns(ParseResult pr) =>
        (pr.GetValue(ClusterDns) ?? [], pr.GetValue(ClusterDomain)!, pr.GetValue(ResolvConf)!);
}
