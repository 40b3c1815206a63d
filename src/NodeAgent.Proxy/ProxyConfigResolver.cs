using System.Globalization;
using System.Net;
using YamlDotNet.RepresentationModel;

namespace NodeAgent.Proxy;

/// <summary>
/// Builds the <see cref="ProxyConfig"/>: kube-proxy's defaults, then a <c>--config</c> KubeProxyConfiguration file
/// (<c>kubeproxy.config.k8s.io/v1alpha1</c>, YAML or JSON), then the flags given on the command line, each value
/// checked; errors name the flag or the file and field. Fields of the file this proxy does not use are reported as
/// warnings, not refused.
/// </summary>
public static class ProxyConfigResolver
{
    public const string ApiVersion = "kubeproxy.config.k8s.io/v1alpha1", Kind = "KubeProxyConfiguration";

    private static readonly HashSet<string> KnownFields =
    [
        "apiVersion", "kind", "clientConnection", "mode", "clusterCIDR", "nodePortAddresses", "hostnameOverride",
        "healthzBindAddress", "metricsBindAddress", "iptables", "udpIdleTimeout",
    ];

    /// <param name="flags">The flags given, by name without dashes (<c>cluster-cidr</c>), with their values.</param>
    public static ProxyConfig Resolve(IReadOnlyDictionary<string, string> flags, List<string> warnings, Func<string, string>? readFile = null)
    {
        var config = new ProxyConfig();
        if (flags.TryGetValue("config", out var file))
        {
            config = ApplyFile(config, file, (readFile ?? File.ReadAllText)(file), warnings);
        }
        foreach (var (name, value) in flags)
        {
            var where = "--" + name;
            config = name switch
            {
                "config" or "cleanup" => config,
                "kubeconfig" => config with { Kubeconfig = value },
                "proxy-mode" => config with { Mode = Mode(value, where) },
                "iptables-backend" => config with { IptablesBackend = Backend(value, where) },
                "cluster-cidr" => config with { ClusterCidr = value.Length == 0 ? null : Cidr(value, where) },
                "nodeport-addresses" => config with { NodePortAddresses = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => Cidr(v, where)).ToList() },
                "masquerade-all" => config with { MasqueradeAll = Bool(value, where) },
                "iptables-min-sync-period" => config with { MinSyncPeriod = GoDuration.Parse(value, where) },
                "iptables-sync-period" => config with { SyncPeriod = Positive(GoDuration.Parse(value, where), where) },
                "udp-timeout" => config with { UdpIdleTimeout = Positive(GoDuration.Parse(value, where), where) },
                "hostname-override" => config with { HostnameOverride = value.Length == 0 ? null : value },
                "healthz-bind-address" => config with { HealthzBindAddress = BindAddress(value, 10256, where) },
                "metrics-bind-address" => config with { MetricsBindAddress = BindAddress(value, 10249, where) },
                _ => throw new FormatException($"{where}: unknown flag"),
            };
        }
        return config;
    }

    private static ProxyConfig ApplyFile(ProxyConfig config, string path, string text, List<string> warnings)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new FormatException($"{path}: not YAML or JSON: {ex.Message}");
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new FormatException($"{path}: expected one {Kind} object");
        }
        var apiVersion = Scalar(root, "apiVersion", path);
        var kind = Scalar(root, "kind", path);
        if (apiVersion != ApiVersion || kind != Kind)
        {
            throw new FormatException($"{path}: apiVersion/kind must be {ApiVersion}/{Kind}, not {apiVersion}/{kind}");
        }
        foreach (var key in root.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").Where(k => !KnownFields.Contains(k)))
        {
            warnings.Add($"{path}: field {key} is not used by NodeAgent's proxy");
        }

        if (root.Children.TryGetValue(new YamlScalarNode("clientConnection"), out var cc) && cc is YamlMappingNode client &&
            Scalar(client, "kubeconfig", path + ": clientConnection") is { Length: > 0 } kubeconfig)
        {
            config = config with { Kubeconfig = kubeconfig };
        }
        if (Scalar(root, "mode", path) is { } mode)
        {
            config = config with { Mode = Mode(mode, $"{path}: mode") };
        }
        if (Scalar(root, "clusterCIDR", path) is { Length: > 0 } cidr)
        {
            config = config with { ClusterCidr = Cidr(cidr, $"{path}: clusterCIDR") };
        }
        if (root.Children.TryGetValue(new YamlScalarNode("nodePortAddresses"), out var npa))
        {
            config = config with
            {
                NodePortAddresses = npa is YamlSequenceNode list
                    ? list.Children.Select((n, i) => Cidr((n as YamlScalarNode)?.Value ?? "", $"{path}: nodePortAddresses[{i}]")).ToList()
                    : throw new FormatException($"{path}: nodePortAddresses must be a list"),
            };
        }
        if (Scalar(root, "udpIdleTimeout", path) is { } udp)
        {
            config = config with { UdpIdleTimeout = Positive(GoDuration.Parse(udp, $"{path}: udpIdleTimeout"), $"{path}: udpIdleTimeout") };
        }
        if (Scalar(root, "hostnameOverride", path) is { Length: > 0 } hostname)
        {
            config = config with { HostnameOverride = hostname };
        }
        if (Scalar(root, "healthzBindAddress", path) is { } healthz)
        {
            config = config with { HealthzBindAddress = BindAddress(healthz, 10256, $"{path}: healthzBindAddress") };
        }
        if (Scalar(root, "metricsBindAddress", path) is { } metrics)
        {
            config = config with { MetricsBindAddress = BindAddress(metrics, 10249, $"{path}: metricsBindAddress") };
        }
        if (root.Children.TryGetValue(new YamlScalarNode("iptables"), out var ipt) && ipt is YamlMappingNode iptables)
        {
            var where = $"{path}: iptables";
            if (Scalar(iptables, "masqueradeAll", where) is { } all)
            {
                config = config with { MasqueradeAll = Bool(all, where + ".masqueradeAll") };
            }
            if (Scalar(iptables, "minSyncPeriod", where) is { } min)
            {
                config = config with { MinSyncPeriod = GoDuration.Parse(min, where + ".minSyncPeriod") };
            }
            if (Scalar(iptables, "syncPeriod", where) is { } sync)
            {
                config = config with { SyncPeriod = Positive(GoDuration.Parse(sync, where + ".syncPeriod"), where + ".syncPeriod") };
            }
        }
        return config;
    }

    private static string? Scalar(YamlMappingNode map, string key, string where) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node)
            ? node is YamlScalarNode s ? s.Value ?? "" : throw new FormatException($"{where}: {key} must be a string")
            : null;

    private static string Mode(string value, string where) => value switch
    {
        "" or "iptables" => "iptables",
        "userspace" => "userspace",
        _ => throw new FormatException($"{where}: proxy mode \"{value}\" is not supported (iptables, userspace)"),
    };

    private static Linux.IptablesBackend? Backend(string value, string where)
    {
        try
        {
            return Linux.IptablesBackendDetector.Parse(value);
        }
        catch (FormatException ex)
        {
            throw new FormatException($"{where}: {ex.Message}");
        }
    }

    private static (IPAddress, int) Cidr(string value, string where) => ServiceParser.ParseCidr(value, where);

    private static bool Bool(string value, string where) =>
        bool.TryParse(value, out var b) ? b : throw new FormatException($"{where}: \"{value}\" is not true or false");

    private static TimeSpan Positive(TimeSpan value, string where) =>
        value > TimeSpan.Zero ? value : throw new FormatException($"{where}: must be greater than 0");

    /// <summary>"ip:port", or an IP alone (the default port); empty disables the server.</summary>
    private static IPEndPoint? BindAddress(string value, int defaultPort, string where)
    {
        if (value.Length == 0)
        {
            return null;
        }
        if (IPAddress.TryParse(value, out var ip) && ServiceParser.IsStrict(value, ip))
        {
            return new IPEndPoint(ip, defaultPort);
        }
        var colon = value.LastIndexOf(':');
        var host = colon > 0 ? value[..colon].TrimStart('[').TrimEnd(']') : "";
        if (colon > 0 && IPAddress.TryParse(host, out ip) && ServiceParser.IsStrict(host, ip) &&
            int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535)
        {
            return new IPEndPoint(ip, port);
        }
        throw new FormatException($"{where}: \"{value}\" is not an IP:port address");
    }
}
