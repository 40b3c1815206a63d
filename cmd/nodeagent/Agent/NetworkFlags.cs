using System.CommandLine;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Config;
using NodeAgent.Network.Bridge;
using NodeAgent.Network.Cni;
using NodeAgent.Cri;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// The pod network flags (kubelet's names where kubelet has one) and the factory that turns the resolved
/// <see cref="AgentOptions"/> into the runtime's <see cref="IPodNetwork"/>: the built-in bridge by default, CNI
/// plugins with <c>--network-plugin=cni</c>, none with <c>--network-plugin=none</c> (sandboxes get loopback only).
/// </summary>
internal static class NetworkFlags
{
    private static readonly KubeletConfiguration Defaults = new();

    public static readonly Option<string> PodCidr = new("--pod-cidr") { Description = "The node's pod CIDR (built-in network)", DefaultValueFactory = _ => AgentOptions.DefaultPodCidr };

    public static readonly Option<string> NetworkPlugin = new("--network-plugin") { Description = "Pod network: bridge (built-in, default), cni or none", DefaultValueFactory = _ => "bridge" };

    public static readonly Option<string> CniConfDir = new("--cni-conf-dir") { Description = "CNI network configurations (the first one is used)", DefaultValueFactory = _ => "/etc/cni/net.d" };

    public static readonly Option<string> CniBinDir = new("--cni-bin-dir") { Description = "CNI plugin binaries, ':'-separated (Debian's are in /usr/lib/cni)", DefaultValueFactory = _ => "/opt/cni/bin" };

    public static readonly Option<string> BridgeName = new("--bridge-name") { Description = "Bridge of the built-in network", DefaultValueFactory = _ => "nodeagent0" };

    public static readonly Option<int> Mtu = new("--network-mtu") { Description = "MTU of the bridge and pod interfaces", DefaultValueFactory = _ => 1500 };

    public static readonly Option<string[]> ClusterDns = new("--cluster-dns") { Description = "Cluster DNS server addresses for ClusterFirst pods", AllowMultipleArgumentsPerToken = true };

    public static readonly Option<string> ClusterDomain = new("--cluster-domain") { Description = "The cluster's DNS domain", DefaultValueFactory = _ => Defaults.ClusterDomain };

    public static readonly Option<string> ResolvConf = new("--resolv-conf") { Description = "resolv.conf for dnsPolicy Default pods; empty for none", DefaultValueFactory = _ => Defaults.ResolvConf };

    public static readonly Option<string> CheckFrequency = new("--network-check-frequency") { Description = "Period of the pod network check (CNI CHECK) of every running sandbox", DefaultValueFactory = _ => "1m" };

    public static IEnumerable<Option> All => [PodCidr, NetworkPlugin, CniConfDir, CniBinDir, BridgeName, Mtu, ClusterDns, ClusterDomain, ResolvConf, CheckFrequency];

    public static void AddTo(Command command)
    {
        foreach (var option in All)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>State of the network under the root directory.</summary>
    public static string StateDir(string rootDir) => Path.Combine(rootDir, "network");

    public static BridgeNetworkOptions BridgeOptions(AgentOptions o) => new()
    {
        PodCidr = o.PodCidr,
        BridgeName = o.BridgeName,
        Mtu = o.NetworkMtu,
        StateDir = StateDir(o.RootDir),
    };

    public static CniOptions CniOptions(AgentOptions o) => new()
    {
        ConfDir = o.CniConfDir,
        BinDirs = o.CniBinDir.Split(':', StringSplitOptions.RemoveEmptyEntries),
        StateDir = Path.Combine(StateDir(o.RootDir), "cni"),
    };

    /// <summary>The pod network the options ask for; null for <c>none</c>. Bad values fail with a message naming the flag or field.</summary>
    public static IPodNetwork? CreatePodNetwork(AgentOptions o, ILoggerFactory? logging = null)
    {
        try
        {
            return o.NetworkPlugin switch
            {
                "bridge" => new BridgeNetwork(BridgeOptions(o), logging?.CreateLogger<BridgeNetwork>()),
                "cni" => new CniNetwork(CniOptions(o)),
                _ => null,
            };
        }
        catch (FormatException ex)
        {
            throw new InvalidOperationException(ex.Message, ex);
        }
    }
}
