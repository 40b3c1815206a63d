using System.CommandLine;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using NodeAgent.Kubelet.Config;

namespace NodeAgent.Cli.Agent;

/// <summary>The agent's kubelet-named flags and how they combine with <c>--config</c>: defaults, then the file, then
/// flags given on the command line (as kubelet).</summary>
internal static class KubeletFlags
{
    public static readonly Option<string?> Config = new("--config") { Description = "KubeletConfiguration file (kubelet.config.k8s.io/v1beta1); flags on the command line win over it" };
    public static readonly Option<string> PodManifestPath = new("--pod-manifest-path") { Description = "Directory (or file) of static pod manifests", DefaultValueFactory = _ => "/etc/agent/manifests" };
    public static readonly Option<string?> ManifestUrl = new("--manifest-url") { Description = "URL serving static pods (a Pod, a v1 PodList or multi-document YAML)" };
    public static readonly Option<string[]> ManifestUrlHeader = new("--manifest-url-header") { Description = "HTTP headers for --manifest-url, as 'key:value,key:value'; repeatable", AllowMultipleArgumentsPerToken = false };
    public static readonly Option<string?> HostnameOverride = new("--hostname-override") { Description = "Node name instead of the host name" };
    public static readonly Option<string?> NodeIp = new("--node-ip") { Description = "The node's IP address (status.hostIP); by default the first address of an up, non-loopback interface" };
    public static readonly Option<int> MaxPods = new("--max-pods") { Description = "Pods this node admits; more are rejected with OutOfpods", DefaultValueFactory = _ => 110 };
    public static readonly Option<int> ReadOnlyPort = new("--read-only-port") { Description = "Port of the read-only API (/healthz, /pods); 0 disables it", DefaultValueFactory = _ => 10255 };
    public static readonly Option<string> Address = new("--address") { Description = "Address the read-only API binds", DefaultValueFactory = _ => "0.0.0.0" };
    public static readonly Option<string> FileCheckFrequency = new("--file-check-frequency") { Description = "Full re-read period of the manifest directory (inotify reports changes at once)", DefaultValueFactory = _ => "20s" };
    public static readonly Option<string> HttpCheckFrequency = new("--http-check-frequency") { Description = "Polling period of --manifest-url", DefaultValueFactory = _ => "20s" };

    public static IEnumerable<Option> All => [Config, PodManifestPath, ManifestUrl, ManifestUrlHeader, HostnameOverride, NodeIp, MaxPods, ReadOnlyPort, Address, FileCheckFrequency, HttpCheckFrequency];

    /// <summary>The effective settings; warnings (unknown config fields) go to <paramref name="warnings"/>.</summary>
    /// <exception cref="KubeletConfigurationException">An invalid file or flag value.</exception>
    public static KubeletConfiguration Resolve(ParseResult pr, List<string> warnings)
    {
        var c = new KubeletConfiguration();
        if (pr.GetValue(Config) is { Length: > 0 } file)
        {
            c = KubeletConfiguration.Load(file, out var w);
            warnings.AddRange(w);
        }

        if (Given(pr, PodManifestPath))
        {
            c.StaticPodPath = pr.GetValue(PodManifestPath)!;
        }

        if (Given(pr, ManifestUrl))
        {
            c.StaticPodUrl = pr.GetValue(ManifestUrl);
        }

        if (Given(pr, ManifestUrlHeader))
        {
            c.StaticPodUrlHeader = ManifestUrlHeaders.Parse(pr.GetValue(ManifestUrlHeader) ?? [])
                .ToDictionary(kv => kv.Key, kv => kv.Value.ToList(), StringComparer.Ordinal);
        }

        if (Given(pr, MaxPods))
        {
            var m = pr.GetValue(MaxPods);
            c.MaxPods = m > 0 ? m : throw new KubeletConfigurationException($"--max-pods: must be positive, got {m}");
        }

        if (Given(pr, ReadOnlyPort))
        {
            var p = pr.GetValue(ReadOnlyPort);
            c.ReadOnlyPort = p is >= 0 and <= 65535 ? p : throw new KubeletConfigurationException($"--read-only-port: {p} is not a port");
        }

        if (Given(pr, Address))
        {
            c.Address = pr.GetValue(Address)!;
        }

        if (Given(pr, FileCheckFrequency))
        {
            c.FileCheckFrequency = Duration(pr, FileCheckFrequency);
        }

        if (Given(pr, HttpCheckFrequency))
        {
            c.HttpCheckFrequency = Duration(pr, HttpCheckFrequency);
        }

        if (Given(pr, NetworkFlags.ClusterDns))
        {
            c.ClusterDns = [.. pr.GetValue(NetworkFlags.ClusterDns) ?? []];
        }

        if (Given(pr, NetworkFlags.ClusterDomain))
        {
            c.ClusterDomain = pr.GetValue(NetworkFlags.ClusterDomain)!;
        }

        if (Given(pr, NetworkFlags.ResolvConf))
        {
            c.ResolvConf = pr.GetValue(NetworkFlags.ResolvConf)!;
        }

        if (!IPAddress.TryParse(c.Address, out _))
        {
            throw new KubeletConfigurationException($"address: \"{c.Address}\" is not an IP address");
        }

        if (c.StaticPodUrl is { } url && !(Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"))
        {
            throw new KubeletConfigurationException($"manifest URL \"{url}\" is not an http(s) URL");
        }

        return c;
    }

    /// <summary>kubelet's node name: <c>--hostname-override</c> or the host name, lower-cased.</summary>
    public static string NodeName(ParseResult pr) =>
        (pr.GetValue(HostnameOverride) is { Length: > 0 } name ? name : Dns.GetHostName()).Trim().ToLowerInvariant();

    /// <summary><c>--node-ip</c>, or the first IPv4 address of an up, non-loopback interface (null if none).</summary>
    public static string? NodeAddress(ParseResult pr)
    {
        if (pr.GetValue(NodeIp) is { Length: > 0 } ip)
        {
            return IPAddress.TryParse(ip, out var parsed) ? parsed.ToString() : throw new KubeletConfigurationException($"--node-ip: \"{ip}\" is not an IP address");
        }

        return NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)?.ToString();
    }

    private static bool Given(ParseResult pr, Option option) => pr.GetResult(option) is { Implicit: false };

    /// <summary>A duration flag (<c>20s</c>, <c>1m</c>); a bad or non-positive value names the flag.</summary>
    public static TimeSpan Duration(ParseResult pr, Option<string> option)
    {
        var text = pr.GetValue(option)!;
        return KubeletConfiguration.TryParseDuration(text, out var d) && d > TimeSpan.Zero
            ? d
            : throw new KubeletConfigurationException($"{option.Name}: \"{text}\" is not a duration such as 20s");
    }
}
