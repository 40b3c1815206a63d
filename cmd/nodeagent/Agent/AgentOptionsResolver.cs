using System.CommandLine;
using NodeAgent.Cli.Commands;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Node;
using NodeAgent.Network.Ipam;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// Builds <see cref="AgentOptions"/> the way kubelet does: defaults, then the <c>--config</c> file, then every flag
/// given on the command line (a flag left at its default never overrides the file). <see cref="Bindings"/> is the
/// one table of flags and the file fields they override; <see cref="Validate"/> then checks the merged values,
/// naming the flag or the file field a bad value came from.
/// </summary>
internal static class AgentOptionsResolver
{
    /// <summary>Every agent flag and the KubeletConfiguration field it overrides (null: flag only).</summary>
    public static IReadOnlyList<AgentOptionBinding> Bindings { get; } =
    [
        Bind(CommonOptions.RootDir, null, (o, v) => o.RootDir = v),
        Bind(CommonOptions.RuntimeStateDir, null, (o, v) => o.RuntimeStateDir = v),
        Bind(CommonOptions.CgroupRoot, null, (o, v) => o.CgroupRoot = v),
        Bind(CommonOptions.LogRoot, "podLogsDir", (o, v) => o.Kubelet.PodLogsDir = v),
        Bind(KubeletFlags.PodManifestPath, "staticPodPath", (o, v) => o.Kubelet.StaticPodPath = v),
        Bind(KubeletFlags.ManifestUrl, "staticPodURL", (o, v) => o.Kubelet.StaticPodUrl = string.IsNullOrEmpty(v) ? null : v),
        Bind(KubeletFlags.ManifestUrlHeader, "staticPodURLHeader", (o, v) => o.Kubelet.StaticPodUrlHeader =
            ManifestUrlHeaders.Parse(v).ToDictionary(kv => kv.Key, kv => kv.Value.ToList(), StringComparer.Ordinal)),
        Bind(KubeletFlags.FileCheckFrequency, "fileCheckFrequency", (o, v) => o.Kubelet.FileCheckFrequency = Duration(KubeletFlags.FileCheckFrequency, v)),
        Bind(KubeletFlags.HttpCheckFrequency, "httpCheckFrequency", (o, v) => o.Kubelet.HttpCheckFrequency = Duration(KubeletFlags.HttpCheckFrequency, v)),
        Bind(KubeletFlags.MaxPods, "maxPods", (o, v) => o.Kubelet.MaxPods = v),
        Bind(KubeletFlags.AllowedUnsafeSysctls, "allowedUnsafeSysctls", (o, v) => o.Kubelet.AllowedUnsafeSysctls = [.. v.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))]),
        Bind(KubeletFlags.ReadOnlyPort, "readOnlyPort", (o, v) => o.Kubelet.ReadOnlyPort = v),
        Bind(KubeletFlags.Address, "address", (o, v) => o.Kubelet.Address = v),
        Bind(KubeletFlags.KubeConfig, null, (o, v) => o.KubeConfig = string.IsNullOrEmpty(v) ? null : v),
        Bind(KubeletFlags.HostnameOverride, null, (o, v) => o.HostnameOverride = v),
        Bind(KubeletFlags.NodeIp, null, (o, v) => o.NodeIp = v),
        Bind(KubeletFlags.LoggingFormat, null, (o, v) => o.LoggingFormat = v),
        Bind(KubeletFlags.SyncFrequency, "syncFrequency", (o, v) => o.Kubelet.SyncFrequency = Duration(KubeletFlags.SyncFrequency, v)),
        Bind(KubeletFlags.NodeLabels, null, (o, v) => o.NodeLabels = NodeFlagValues.ParseLabels(v)),
        Bind(KubeletFlags.RegisterNode, "registerNode", (o, v) => o.Kubelet.RegisterNode = v),
        Bind(KubeletFlags.SeccompDefault, "seccompDefault", (o, v) => o.Kubelet.SeccompDefault = v),
        Bind(KubeletFlags.RegisterWithTaints, "registerWithTaints", (o, v) => o.Kubelet.RegisterWithTaints = NodeFlagValues.ParseTaints(v)),
        Bind(KubeletFlags.NodeStatusUpdateFrequency, "nodeStatusUpdateFrequency", (o, v) => o.Kubelet.NodeStatusUpdateFrequency = Duration(KubeletFlags.NodeStatusUpdateFrequency, v)),
        Bind(KubeletFlags.KubeApiQps, "kubeAPIQPS", (o, v) => o.Kubelet.KubeApiQps = v),
        Bind(KubeletFlags.KubeApiBurst, "kubeAPIBurst", (o, v) => o.Kubelet.KubeApiBurst = v),
        Bind(KubeletFlags.KubeReserved, "kubeReserved", (o, v) => o.Kubelet.KubeReserved = NodeFlagValues.ParseMap("--kube-reserved", v)),
        Bind(KubeletFlags.SystemReserved, "systemReserved", (o, v) => o.Kubelet.SystemReserved = NodeFlagValues.ParseMap("--system-reserved", v)),
        Bind(KubeletFlags.EvictionHard, "evictionHard", (o, v) => o.Kubelet.EvictionHard = NodeFlagValues.ParseMap("--eviction-hard", v, '<')),
        Bind(NetworkFlags.PodCidr, "podCIDR", (o, v) => o.Kubelet.PodCidr = v),
        Bind(NetworkFlags.ClusterDns, "clusterDNS", (o, v) => o.Kubelet.ClusterDns = [.. v.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))]),
        Bind(NetworkFlags.ClusterDomain, "clusterDomain", (o, v) => o.Kubelet.ClusterDomain = v),
        Bind(NetworkFlags.ResolvConf, "resolvConf", (o, v) => o.Kubelet.ResolvConf = v),
        Bind(NetworkFlags.NetworkPlugin, null, (o, v) => o.NetworkPlugin = v),
        Bind(NetworkFlags.CniConfDir, null, (o, v) => o.CniConfDir = v),
        Bind(NetworkFlags.CniBinDir, null, (o, v) => o.CniBinDir = v),
        Bind(NetworkFlags.BridgeName, null, (o, v) => o.BridgeName = v),
        Bind(NetworkFlags.Mtu, null, (o, v) => o.NetworkMtu = v),
        Bind(NetworkFlags.CheckFrequency, null, (o, v) => o.NetworkCheckFrequency = Duration(NetworkFlags.CheckFrequency, v)),
        Bind(KubeletFlags.LocalStorageCapacityIsolation, "localStorageCapacityIsolation", (o, v) => o.Kubelet.LocalStorageCapacityIsolation = v),
        Bind(KubeletFlags.EvictionMonitoringPeriod, null, (o, v) => o.EvictionMonitoringPeriod = Duration(KubeletFlags.EvictionMonitoringPeriod, v)),
        Bind(KubeletFlags.FsStatsPeriod, null, (o, v) => o.FsStatsPeriod = Duration(KubeletFlags.FsStatsPeriod, v)),
        Bind(AgentProxyOptions.DisableKubeProxy, null, (o, v) => o.DisableKubeProxy = v),
        Bind(AgentProxyOptions.KubeProxyArg, null, (o, v) => o.KubeProxyArgs = AgentProxyOptions.ParseArgs(v)),
        Bind(AgentImageOptions.RegistryConfig, null, (o, v) => o.RegistryConfig = v),
        Bind(AgentImageOptions.HighThreshold, "imageGCHighThresholdPercent", (o, v) => o.Kubelet.ImageGcHighThresholdPercent = v),
        Bind(AgentImageOptions.LowThreshold, "imageGCLowThresholdPercent", (o, v) => o.Kubelet.ImageGcLowThresholdPercent = v),
        Bind(KubeletApiFlags.Port, "port", (o, v) => o.Kubelet.Port = v),
        Bind(KubeletApiFlags.HealthzPort, "healthzPort", (o, v) => o.Kubelet.HealthzPort = v),
        Bind(KubeletApiFlags.HealthzBindAddress, "healthzBindAddress", (o, v) => o.Kubelet.HealthzBindAddress = v),
        Bind(KubeletApiFlags.TlsCertFile, "tlsCertFile", (o, v) => o.Kubelet.TlsCertFile = string.IsNullOrEmpty(v) ? null : v),
        Bind(KubeletApiFlags.TlsPrivateKeyFile, "tlsPrivateKeyFile", (o, v) => o.Kubelet.TlsPrivateKeyFile = string.IsNullOrEmpty(v) ? null : v),
        Bind(KubeletApiFlags.ClientCaFile, "authentication.x509.clientCAFile", (o, v) => o.Kubelet.AuthenticationX509ClientCaFile = string.IsNullOrEmpty(v) ? null : v),
        Bind(KubeletApiFlags.AuthenticationTokenWebhook, "authentication.webhook.enabled", (o, v) => o.Kubelet.AuthenticationWebhookEnabled = v),
        Bind(KubeletApiFlags.AuthenticationTokenWebhookCacheTtl, "authentication.webhook.cacheTTL",
            (o, v) => o.Kubelet.AuthenticationWebhookCacheTtl = Duration(KubeletApiFlags.AuthenticationTokenWebhookCacheTtl, v)),
        Bind(KubeletApiFlags.AnonymousAuth, "authentication.anonymous.enabled", (o, v) => o.Kubelet.AuthenticationAnonymousEnabled = v),
        Bind(KubeletApiFlags.AuthorizationMode, "authorization.mode", (o, v) => o.Kubelet.AuthorizationMode = v),
        Bind(KubeletApiFlags.AuthorizationWebhookCacheAuthorizedTtl, "authorization.webhook.cacheAuthorizedTTL",
            (o, v) => o.Kubelet.AuthorizationWebhookCacheAuthorizedTtl = Duration(KubeletApiFlags.AuthorizationWebhookCacheAuthorizedTtl, v)),
        Bind(KubeletApiFlags.AuthorizationWebhookCacheUnauthorizedTtl, "authorization.webhook.cacheUnauthorizedTTL",
            (o, v) => o.Kubelet.AuthorizationWebhookCacheUnauthorizedTtl = Duration(KubeletApiFlags.AuthorizationWebhookCacheUnauthorizedTtl, v)),
    ];

    /// <summary>
    /// The effective settings of the command <paramref name="pr"/> was parsed for (flags the command does not have
    /// keep their defaults); warnings (unknown config fields, …) go to <paramref name="warnings"/>.
    /// </summary>
    /// <exception cref="KubeletConfigurationException">An unreadable or invalid file, or an invalid value.</exception>
    public static AgentOptions Resolve(ParseResult pr, ICollection<string> warnings)
    {
        var o = new AgentOptions();
        if (pr.GetResult(KubeletFlags.Config) is not null && pr.GetValue(KubeletFlags.Config) is { Length: > 0 } file)
        {
            o.ConfigFile = file;
            o.Kubelet = KubeletConfiguration.Load(file, out var w);
            foreach (var warning in w)
            {
                warnings.Add(warning);
            }
        }

        var given = new HashSet<Option>();
        foreach (var b in Bindings)
        {
            // Global options (root dir, cgroup root) always apply: they have no file field to lose to.
            if (Given(pr, b.Flag) || (b.FileField is null && b.Flag.Recursive && pr.GetResult(b.Flag) is not null))
            {
                b.Apply(pr, o);
                given.Add(b.Flag);
            }
        }

        Validate(o, given);
        return o;
    }

    /// <summary>Checks the merged values; the message names the flag when it was given, else the file field.</summary>
    /// <exception cref="KubeletConfigurationException">An invalid value.</exception>
    public static void Validate(AgentOptions o, IReadOnlySet<Option> given)
    {
        var k = o.Kubelet;
        string Name(Option flag) =>
            given.Contains(flag) || Bindings.FirstOrDefault(b => b.Flag == flag)?.FileField is not { } field
                ? flag.Name
                : o.ConfigFile is { } f ? $"{f}: {field}" : field;
        void Check(bool ok, Option flag, string value, string why)
        {
            if (!ok)
            {
                throw new KubeletConfigurationException($"{Name(flag)} \"{Printable(value)}\": {why}");
            }
        }

        Check(NodeIdentityResolver.ParseIp(k.Address) is not null, KubeletFlags.Address, k.Address, "is not an IP address");
        Check(k.StaticPodUrl is null || (Uri.TryCreate(k.StaticPodUrl, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"),
            KubeletFlags.ManifestUrl, k.StaticPodUrl ?? string.Empty, "is not an http(s) URL");
        Check(!HasControl(k.StaticPodPath), KubeletFlags.PodManifestPath, k.StaticPodPath, "is not a usable path");
        Check(k.MaxPods is >= 1 and <= 100_000, KubeletFlags.MaxPods, $"{k.MaxPods}", "must be in [1, 100000]");
        Check(k.Port is >= 1 and <= 65535, KubeletApiFlags.Port, $"{k.Port}", "is not a port");
        Check(k.HealthzPort is >= 0 and <= 65535, KubeletApiFlags.HealthzPort, $"{k.HealthzPort}", "is not a port (0 disables the healthz port)");
        Check(NodeIdentityResolver.ParseIp(k.HealthzBindAddress) is not null, KubeletApiFlags.HealthzBindAddress, k.HealthzBindAddress, "is not an IP address");
        Check(k.AuthorizationMode is "Webhook" or "AlwaysAllow", KubeletApiFlags.AuthorizationMode, k.AuthorizationMode, "expected Webhook or AlwaysAllow");
        Check((k.TlsCertFile is null) == (k.TlsPrivateKeyFile is null), k.TlsCertFile is null ? KubeletApiFlags.TlsCertFile : KubeletApiFlags.TlsPrivateKeyFile,
            k.TlsCertFile ?? k.TlsPrivateKeyFile ?? string.Empty, "--tls-cert-file and --tls-private-key-file go together");
        foreach (var (flag, path) in new[] { (KubeletApiFlags.TlsCertFile, k.TlsCertFile), (KubeletApiFlags.TlsPrivateKeyFile, k.TlsPrivateKeyFile), (KubeletApiFlags.ClientCaFile, k.AuthenticationX509ClientCaFile) })
        {
            Check(path is null || (path.Length > 0 && !HasControl(path)), flag, path ?? string.Empty, "is not a usable path");
        }

        Check(k.ReadOnlyPort is >= 0 and <= 65535, KubeletFlags.ReadOnlyPort, $"{k.ReadOnlyPort}", "is not a port (0 disables the read-only API)");
        Check(k.FileCheckFrequency > TimeSpan.Zero, KubeletFlags.FileCheckFrequency, $"{k.FileCheckFrequency}", "must be positive");
        Check(k.HttpCheckFrequency > TimeSpan.Zero, KubeletFlags.HttpCheckFrequency, $"{k.HttpCheckFrequency}", "must be positive");
        foreach (var sysctl in k.AllowedUnsafeSysctls)
        {
            // kubelet refuses to start on a pattern that is malformed or not known to be namespaced.
            var problem = SysctlProblem(sysctl);
            Check(problem is null, KubeletFlags.AllowedUnsafeSysctls, sysctl, problem ?? "");
        }

        foreach (var dns in k.ClusterDns)
        {
            Check(NodeIdentityResolver.ParseIp(dns) is not null, NetworkFlags.ClusterDns, dns, "is not an IP address");
        }

        Check(k.ClusterDomain.Length == 0 || (k.ClusterDomain.Length <= 253 && k.ClusterDomain.TrimEnd('.').Split('.').All(IsDnsLabel)),
            NetworkFlags.ClusterDomain, k.ClusterDomain, "is not a DNS domain");
        Check(!HasControl(k.ResolvConf), NetworkFlags.ResolvConf, k.ResolvConf, "is not a usable path");
        Check(k.PodLogsDir is null || (k.PodLogsDir.Length > 0 && !HasControl(k.PodLogsDir)), CommonOptions.LogRoot, k.PodLogsDir ?? string.Empty, "is not a usable path");
        try
        {
            Ipv4Cidr.Parse(o.PodCidr);
        }
        catch (FormatException)
        {
            Check(false, NetworkFlags.PodCidr, o.PodCidr, "is not an IPv4 CIDR with a prefix length of 1 to 30 (e.g. 10.88.0.0/16)");
        }

        Check(k.ImageGcHighThresholdPercent is >= 0 and <= 100, AgentImageOptions.HighThreshold, $"{k.ImageGcHighThresholdPercent}", "must be in range [0-100]");
        Check(k.ImageGcLowThresholdPercent is >= 0 and <= 100, AgentImageOptions.LowThreshold, $"{k.ImageGcLowThresholdPercent}", "must be in range [0-100]");
        Check(k.ImageGcLowThresholdPercent <= k.ImageGcHighThresholdPercent, AgentImageOptions.LowThreshold, $"{k.ImageGcLowThresholdPercent}",
            $"can not be higher than the high threshold {k.ImageGcHighThresholdPercent}");
        Check(o.NetworkPlugin is "bridge" or "cni" or "none", NetworkFlags.NetworkPlugin, o.NetworkPlugin, "expected bridge, cni or none");
        Check(o.NetworkMtu is >= 68 and <= 65535, NetworkFlags.Mtu, $"{o.NetworkMtu}", "must be in [68, 65535]");
        Check(o.BridgeName.Length is >= 1 and <= 15 && o.BridgeName is not ("." or "..") && !o.BridgeName.Any(c => c is '/' or ':' || char.IsWhiteSpace(c) || char.IsControl(c)),
            NetworkFlags.BridgeName, o.BridgeName, "is not an interface name (1 to 15 characters, no '/', ':' or spaces)");
        Check(o.CniConfDir.Length > 0 && !HasControl(o.CniConfDir), NetworkFlags.CniConfDir, o.CniConfDir, "is not a usable path");
        Check(o.CniBinDir.Length > 0 && !HasControl(o.CniBinDir), NetworkFlags.CniBinDir, o.CniBinDir, "is not a usable path list");
        Check(o.NetworkCheckFrequency > TimeSpan.Zero, NetworkFlags.CheckFrequency, $"{o.NetworkCheckFrequency}", "must be positive");
        Check(o.EvictionMonitoringPeriod > TimeSpan.Zero, KubeletFlags.EvictionMonitoringPeriod, $"{o.EvictionMonitoringPeriod}", "must be positive");
        Check(o.FsStatsPeriod > TimeSpan.Zero, KubeletFlags.FsStatsPeriod, $"{o.FsStatsPeriod}", "must be positive");
        Check(o.LoggingFormat is "text" or "json", KubeletFlags.LoggingFormat, o.LoggingFormat, "unsupported value: supported values: \"json\", \"text\"");
        Check(o.RootDir.Length > 0 && !HasControl(o.RootDir), CommonOptions.RootDir, o.RootDir, "is not a usable path");
        Check(o.RuntimeStateDir is null || (o.RuntimeStateDir.Length > 0 && !HasControl(o.RuntimeStateDir)), CommonOptions.RuntimeStateDir, o.RuntimeStateDir ?? "", "is not a usable path");
        Check(k.SyncFrequency > TimeSpan.Zero, KubeletFlags.SyncFrequency, $"{k.SyncFrequency}", "must be positive");
        Check(k.NodeStatusUpdateFrequency > TimeSpan.Zero, KubeletFlags.NodeStatusUpdateFrequency, $"{k.NodeStatusUpdateFrequency}", "must be positive");
        Check(k.KubeApiQps >= 1, KubeletFlags.KubeApiQps, $"{k.KubeApiQps}", "must be at least 1");
        Check(k.KubeApiBurst >= 1, KubeletFlags.KubeApiBurst, $"{k.KubeApiBurst}", "must be at least 1");
        NodeFlagValues.ReservedAmounts(Name(KubeletFlags.KubeReserved), k.KubeReserved);
        NodeFlagValues.ReservedAmounts(Name(KubeletFlags.SystemReserved), k.SystemReserved);
        NodeFlagValues.Thresholds(Name(KubeletFlags.EvictionHard), k.EvictionHard);
    }

    private static AgentOptionBinding Bind<T>(Option<T> flag, string? field, Action<AgentOptions, T> set) =>
        new(flag, field, (pr, o) => set(o, pr.GetValue(flag)!));

    private static bool Given(ParseResult pr, Option option) => pr.GetResult(option) is { Implicit: false };

    /// <summary>A duration flag (<c>20s</c>, <c>1m</c>); a bad or non-positive value names the flag.</summary>
    private static TimeSpan Duration(Option flag, string text) =>
        KubeletConfiguration.TryParseDuration(text, out var d) && d > TimeSpan.Zero
            ? d
            : throw new KubeletConfigurationException($"{flag.Name} \"{Printable(text)}\": is not a duration such as 20s");

    private static bool IsDnsLabel(string label) =>
        label.Length is >= 1 and <= 63 && char.IsAsciiLetterOrDigit(label[0]) && char.IsAsciiLetterOrDigit(label[^1])
        && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private static bool HasControl(string s) => s.Any(char.IsControl);

    /// <summary>Why kubelet's sysctl allowlist would refuse <paramref name="pattern"/>, or null.</summary>
    private static string? SysctlProblem(string pattern)
    {
        try
        {
            _ = new NodeAgent.Kubelet.Pods.SysctlAllowlist([pattern]);
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }

    private static string Printable(string s)
    {
        var t = new string(s.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return t.Length > 100 ? t[..100] + "…" : t;
    }
}
