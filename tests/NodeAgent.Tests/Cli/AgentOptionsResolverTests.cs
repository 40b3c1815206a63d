using System.CommandLine;
using NodeAgent.Cli.Agent;
using NodeAgent.Cli.Commands;
using NodeAgent.Kubelet.Config;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Cli;

/// <summary>
/// The agent's one options model: for every KubeletConfiguration field the agent accepts, the file alone sets it,
/// the flag alone sets it, the flag wins over the file, and neither leaves kubelet's default (kubelet's precedence:
/// defaults, then the --config file, then flags given on the command line).
/// </summary>
public sealed class AgentOptionsResolverTests : IDisposable
{
    private static readonly RootCommand Root = BuildRoot();
    private readonly TempDir _dir = new("agent-options");

    /// <summary>Field, its YAML in the file, its flag, what each yields, and kubelet's default.</summary>
    public static TheoryData<string, string, string[], Func<AgentOptions, string>, string, string, string> Fields => new()
    {
        { "staticPodPath", "staticPodPath: /file/manifests", ["--pod-manifest-path", "/flag/manifests"], o => o.Kubelet.StaticPodPath, "/file/manifests", "/flag/manifests", "/etc/agent/manifests" },
        { "staticPodURL", "staticPodURL: http://file.example/pods", ["--manifest-url", "http://flag.example/pods"], o => o.Kubelet.StaticPodUrl ?? "<none>", "http://file.example/pods", "http://flag.example/pods", "<none>" },
        { "staticPodURLHeader", "staticPodURLHeader: {X-File: [a, b]}", ["--manifest-url-header", "X-Flag:c"], Headers, "X-File=a|b", "X-Flag=c", "" },
        { "fileCheckFrequency", "fileCheckFrequency: 45s", ["--file-check-frequency", "1m30s"], o => $"{o.Kubelet.FileCheckFrequency}", "00:00:45", "00:01:30", "00:00:20" },
        { "httpCheckFrequency", "httpCheckFrequency: 2m", ["--http-check-frequency", "500ms"], o => $"{o.Kubelet.HttpCheckFrequency}", "00:02:00", "00:00:00.5000000", "00:00:20" },
        { "maxPods", "maxPods: 50", ["--max-pods", "60"], o => $"{o.Kubelet.MaxPods}", "50", "60", "110" },
        { "allowedUnsafeSysctls", "allowedUnsafeSysctls: [net.core.somaxconn, 'kernel.msg*']", ["--allowed-unsafe-sysctls", "net.ipv4.*,kernel.sem"], o => string.Join(',', o.Kubelet.AllowedUnsafeSysctls), "net.core.somaxconn,kernel.msg*", "net.ipv4.*,kernel.sem", "" },
        { "readOnlyPort", "readOnlyPort: 0", ["--read-only-port", "10266"], o => $"{o.Kubelet.ReadOnlyPort}", "0", "10266", "10255" },
        { "address", "address: 127.0.0.2", ["--address", "127.0.0.3"], o => o.Kubelet.Address, "127.0.0.2", "127.0.0.3", "0.0.0.0" },
        { "clusterDNS", "clusterDNS: [10.0.0.10, 10.0.0.20]", ["--cluster-dns", "10.0.0.11"], o => string.Join(',', o.Kubelet.ClusterDns), "10.0.0.10,10.0.0.20", "10.0.0.11", "" },
        { "clusterDomain", "clusterDomain: file.local", ["--cluster-domain", "flag.local"], o => o.Kubelet.ClusterDomain, "file.local", "flag.local", "cluster.local" },
        { "resolvConf", "resolvConf: /file/resolv.conf", ["--resolv-conf", "/flag/resolv.conf"], o => o.Kubelet.ResolvConf, "/file/resolv.conf", "/flag/resolv.conf", "/etc/resolv.conf" },
        { "podCIDR", "podCIDR: 10.1.0.0/16", ["--pod-cidr", "10.2.0.0/24"], o => o.PodCidr, "10.1.0.0/16", "10.2.0.0/24", "10.88.0.0/16" },
        { "imageGCHighThresholdPercent", "imageGCHighThresholdPercent: 90", ["--image-gc-high-threshold", "95"], o => $"{o.ImageGc.HighThresholdPercent}", "90", "95", "85" },
        { "imageGCLowThresholdPercent", "imageGCLowThresholdPercent: 70", ["--image-gc-low-threshold", "75"], o => $"{o.ImageGc.LowThresholdPercent}", "70", "75", "80" },
        { "podLogsDir", "podLogsDir: /file/logs", ["--pod-log-dir", "/flag/logs"], o => o.PodLogDir, "/file/logs", "/flag/logs", "/var/log/pods" },
        { "syncFrequency", "syncFrequency: 30s", ["--sync-frequency", "2m"], o => $"{o.Kubelet.SyncFrequency}", "00:00:30", "00:02:00", "00:01:00" },
        { "nodeStatusUpdateFrequency", "nodeStatusUpdateFrequency: 20s", ["--node-status-update-frequency", "4s"], o => $"{o.Kubelet.NodeStatusUpdateFrequency}", "00:00:20", "00:00:04", "00:00:10" },
        { "registerNode", "registerNode: false", ["--register-node", "true"], o => $"{o.Kubelet.RegisterNode}", "False", "True", "True" },
        { "localStorageCapacityIsolation", "localStorageCapacityIsolation: false", ["--local-storage-capacity-isolation", "true"], o => $"{o.Kubelet.LocalStorageCapacityIsolation}", "False", "True", "True" },
        { "seccompDefault", "seccompDefault: true", ["--seccomp-default", "false"], o => $"{o.Kubelet.SeccompDefault}", "True", "False", "False" },
        { "registerWithTaints", "registerWithTaints: [{key: a, value: b, effect: NoSchedule}]", ["--register-with-taints", "c:NoExecute"], Taints, "a=b:NoSchedule", "c:NoExecute", "" },
        { "kubeAPIQPS", "kubeAPIQPS: 20", ["--kube-api-qps", "30"], o => $"{o.Kubelet.KubeApiQps}", "20", "30", "50" },
        { "kubeAPIBurst", "kubeAPIBurst: 200", ["--kube-api-burst", "300"], o => $"{o.Kubelet.KubeApiBurst}", "200", "300", "100" },
        { "kubeReserved", "kubeReserved: {cpu: 100m}", ["--kube-reserved", "memory=1Gi"], o => Map(o.Kubelet.KubeReserved), "cpu=100m", "memory=1Gi", "" },
        { "systemReserved", "systemReserved: {pid: '100'}", ["--system-reserved", "ephemeral-storage=1Gi"], o => Map(o.Kubelet.SystemReserved), "pid=100", "ephemeral-storage=1Gi", "" },
        { "evictionHard", "evictionHard: {memory.available: 200Mi}", ["--eviction-hard", "nodefs.available<5%"], o => Map(o.Kubelet.EvictionHard), "memory.available=200Mi", "nodefs.available=5%", "" },
        { "port", "port: 11250", ["--port", "12250"], o => $"{o.Kubelet.Port}", "11250", "12250", "10250" },
        { "healthzPort", "healthzPort: 0", ["--healthz-port", "11248"], o => $"{o.Kubelet.HealthzPort}", "0", "11248", "10248" },
        { "healthzBindAddress", "healthzBindAddress: 127.0.0.2", ["--healthz-bind-address", "0.0.0.0"], o => o.Kubelet.HealthzBindAddress, "127.0.0.2", "0.0.0.0", "127.0.0.1" },
        { "tlsCertFile", "tlsCertFile: /file/k.crt\ntlsPrivateKeyFile: /file/k.key", ["--tls-cert-file", "/flag/k.crt", "--tls-private-key-file", "/flag/k.key"], o => o.Kubelet.TlsCertFile ?? "<none>", "/file/k.crt", "/flag/k.crt", "<none>" },
        { "tlsPrivateKeyFile", "tlsCertFile: /file/k.crt\ntlsPrivateKeyFile: /file/k.key", ["--tls-private-key-file", "/flag/k.key", "--tls-cert-file", "/flag/k.crt"], o => o.Kubelet.TlsPrivateKeyFile ?? "<none>", "/file/k.key", "/flag/k.key", "<none>" },
        { "authentication.x509.clientCAFile", "authentication: {x509: {clientCAFile: /file/ca.crt}}", ["--client-ca-file", "/flag/ca.crt"], o => o.Kubelet.AuthenticationX509ClientCaFile ?? "<none>", "/file/ca.crt", "/flag/ca.crt", "<none>" },
        { "authentication.webhook.enabled", "authentication: {webhook: {enabled: false}}", ["--authentication-token-webhook", "true"], o => $"{o.Kubelet.AuthenticationWebhookEnabled}", "False", "True", "True" },
        { "authentication.webhook.cacheTTL", "authentication: {webhook: {cacheTTL: 10s}}", ["--authentication-token-webhook-cache-ttl", "1m"], o => $"{o.Kubelet.AuthenticationWebhookCacheTtl}", "00:00:10", "00:01:00", "00:02:00" },
        { "authentication.anonymous.enabled", "authentication: {anonymous: {enabled: true}}", ["--anonymous-auth", "false"], o => $"{o.Kubelet.AuthenticationAnonymousEnabled}", "True", "False", "False" },
        { "authorization.mode", "authorization: {mode: AlwaysAllow}", ["--authorization-mode", "Webhook"], o => o.Kubelet.AuthorizationMode, "AlwaysAllow", "Webhook", "Webhook" },
        { "authorization.webhook.cacheAuthorizedTTL", "authorization: {webhook: {cacheAuthorizedTTL: 1m}}", ["--authorization-webhook-cache-authorized-ttl", "2m"], o => $"{o.Kubelet.AuthorizationWebhookCacheAuthorizedTtl}", "00:01:00", "00:02:00", "00:05:00" },
        { "authorization.webhook.cacheUnauthorizedTTL", "authorization: {webhook: {cacheUnauthorizedTTL: 5s}}", ["--authorization-webhook-cache-unauthorized-ttl", "10s"], o => $"{o.Kubelet.AuthorizationWebhookCacheUnauthorizedTtl}", "00:00:05", "00:00:10", "00:00:30" },
    };

    private static string Taints(AgentOptions o) =>
        string.Join(',', o.Kubelet.RegisterWithTaints.Select(t => t.Value is null ? $"{t.Key}:{t.Effect}" : $"{t.Key}={t.Value}:{t.Effect}"));

    private static string Map(IReadOnlyDictionary<string, string> map) => string.Join(',', map.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>Flag-only settings (kubelet has no file field for them): given → its value, else the default.</summary>
    public static TheoryData<string[], Func<AgentOptions, string>, string, string> FlagOnly => new()
    {
        { ["--hostname-override", "Node-A"], o => o.HostnameOverride ?? "<none>", "Node-A", "<none>" },
        { ["--node-ip", "192.0.2.7"], o => o.NodeIp ?? "<none>", "192.0.2.7", "<none>" },
        { ["--network-plugin", "cni"], o => o.NetworkPlugin, "cni", "bridge" },
        { ["--cni-conf-dir", "/x/net.d"], o => o.CniConfDir, "/x/net.d", "/etc/cni/net.d" },
        { ["--cni-bin-dir", "/x/bin:/y/bin"], o => o.CniBinDir, "/x/bin:/y/bin", "/opt/cni/bin" },
        { ["--bridge-name", "br-test"], o => o.BridgeName, "br-test", "nodeagent0" },
        { ["--network-mtu", "9000"], o => $"{o.NetworkMtu}", "9000", "1500" },
        { ["--network-check-frequency", "30s"], o => $"{o.NetworkCheckFrequency}", "00:00:30", "00:01:00" },
        { ["--eviction-monitoring-period", "2s"], o => $"{o.EvictionMonitoringPeriod}", "00:00:02", "00:00:10" },
        { ["--fs-stats-period", "5s"], o => $"{o.FsStatsPeriod}", "00:00:05", "00:01:00" },
        { ["--registry-config", "/etc/x/registries.yaml"], o => o.RegistryConfig ?? "<none>", "/etc/x/registries.yaml", "<none>" },
        { ["--logging-format", "json"], o => o.LoggingFormat, "json", "text" },
        { ["--root-dir", "/x/state"], o => o.RootDir, "/x/state", "/var/lib/nodeagent" },
        { ["--runtime-state-dir", "/x/run"], o => o.RuntimeStateDir ?? "<resolved by the runtime>", "/x/run", "<resolved by the runtime>" },
        { ["--cgroup-root", "nodeagent-x"], o => o.CgroupRoot, "nodeagent-x", "" },
        { ["--kubeconfig", "/x/kubelet.kubeconfig"], o => o.KubeConfig ?? "<none>", "/x/kubelet.kubeconfig", "<none>" },
        { ["--node-labels", "b=2,a.example.com/x=1"], o => Map(o.NodeLabels), "a.example.com/x=1,b=2", "" },
        { ["--disable-kube-proxy"], o => $"{o.DisableKubeProxy}", "True", "False" },
        { ["--kube-proxy-arg", "proxy-mode=userspace"], o => Map(o.KubeProxyArgs), "proxy-mode=userspace", "" },
    };

    [Theory]
    [MemberData(nameof(Fields))]
    public void FileFlagBothNeither(string field, string yaml, string[] flag, Func<AgentOptions, string> get, string fromFile, string fromFlag, string byDefault)
    {
        Assert.Equal(fromFile, get(Resolve(yaml)));
        Assert.Equal(fromFlag, get(Resolve(null, flag)));
        Assert.Equal(fromFlag, get(Resolve(yaml, flag)));
        Assert.Equal(byDefault, get(Resolve(null)));
        Assert.Equal(byDefault, get(Resolve(string.Empty)));
        Assert.Contains(AgentOptionsResolver.Bindings, b => b.FileField == field && b.Flag.Name == flag[0]);
    }

    [Theory]
    [MemberData(nameof(FlagOnly))]
    public void FlagOnlySettings(string[] flag, Func<AgentOptions, string> get, string given, string byDefault)
    {
        Assert.Equal(given, get(Resolve("maxPods: 7", flag)));
        Assert.Equal(byDefault, get(Resolve("maxPods: 7")));
        Assert.Contains(AgentOptionsResolver.Bindings, b => b.FileField is null && b.Flag.Name == flag[0]);
    }

    [Fact]
    public void TheTablesCoverEveryFieldAndEveryAgentFlag()
    {
        var fields = Fields.Select(row => (string)row[0]).ToHashSet();
        Assert.Equal(fields.Order(), AgentOptionsResolver.Bindings.Where(b => b.FileField is not null).Select(b => b.FileField!).Order());

        // Every property of KubeletConfiguration is a file field with a flag (kubelet's names, compared without case).
        var properties = typeof(KubeletConfiguration).GetProperties().Where(p => p.CanWrite).Select(p => p.Name.ToLowerInvariant()).Order();
        Assert.Equal(properties, fields.Select(f => f.Replace(".", "", StringComparison.Ordinal).ToLowerInvariant()).Order());

        var flags = Fields.Select(row => ((string[])row[2])[0]).Concat(FlagOnly.Select(row => ((string[])row[0])[0])).ToHashSet();
        var agent = Root.Subcommands.Single(c => c.Name == "agent");
        var agentFlags = agent.Options.Select(o => o.Name).Where(n => n != "--config").Concat(["--root-dir", "--runtime-state-dir", "--pod-log-dir", "--cgroup-root"]);
        Assert.Equal(agentFlags.Order(), flags.Order());
    }

    [Fact]
    public void UnknownNestedFieldsAreWarnedAboutWithTheirPath()
    {
        ResolveArgs(["agent", "--config", Write("authentication:\n  webhook:\n    enabled: true\n    cacheTtl: 1m\nauthorization: {other: 1}\n")], out var warnings);
        Assert.Equal(2, warnings.Count);
        Assert.Contains(warnings, w => w.Contains(":6:", StringComparison.Ordinal) && w.Contains("unknown field \"authentication.webhook.cacheTtl\"", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("unknown field \"authorization.other\"", StringComparison.Ordinal));
    }

    [Fact]
    public void AFlagGivenAtItsDefaultValueStillWinsOverTheFile()
    {
        Assert.Equal(110, Resolve("maxPods: 50", "--max-pods", "110").Kubelet.MaxPods);
        Assert.Equal("/etc/resolv.conf", Resolve("resolvConf: /x", "--resolv-conf", "/etc/resolv.conf").Kubelet.ResolvConf);
    }

    [Fact]
    public void ShippedKubeletConfigSetsTheImageGcThresholds()
    {
        // The sample file sets the thresholds; with them changed in a copy, the agent's GC policy follows the file.
        var text = File.ReadAllText(Path.Combine(RepoPaths.Root, "manifests", "kubelet-config.yaml"));
        Assert.Contains("imageGCHighThresholdPercent: 85", text, StringComparison.Ordinal);
        var file = _dir.Combine("shipped.yaml");
        File.WriteAllText(file, text.Replace("imageGCHighThresholdPercent: 85", "imageGCHighThresholdPercent: 60", StringComparison.Ordinal)
            .Replace("imageGCLowThresholdPercent: 80", "imageGCLowThresholdPercent: 40", StringComparison.Ordinal));
        var options = ResolveArgs(["agent", "--config", file], out var warnings);
        Assert.Empty(warnings);
        Assert.Equal((60, 40), (options.ImageGc.HighThresholdPercent, options.ImageGc.LowThresholdPercent));
    }

    [Fact]
    public void UnknownFieldsAreWarnedAboutWithTheirLine()
    {
        ResolveArgs(["agent", "--config", Write("maxPods: 5\nsomethingElse: 1\n")], out var warnings);
        var warning = Assert.Single(warnings);
        Assert.Contains(":4:", warning, StringComparison.Ordinal);
        Assert.Contains("unknown field \"somethingElse\"", warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("podCIDR: 10.0.0.0/33", new string[0], "podCIDR")]
    [InlineData("", new[] { "--pod-cidr", "banana" }, "--pod-cidr \"banana\"")]
    [InlineData("clusterDNS: [\"10.0.0.10\\nsearch evil\"]", new string[0], "clusterDNS \"10.0.0.10?search evil\": is not an IP address")]
    [InlineData("", new[] { "--cluster-dns", "10.0.0.1,not-an-ip" }, "--cluster-dns \"not-an-ip\"")]
    [InlineData("clusterDomain: \"a b\"", new string[0], "clusterDomain")]
    [InlineData("", new[] { "--cluster-domain", "evil\noptions ndots:0" }, "--cluster-domain \"evil?options ndots:0\": is not a DNS domain")]
    [InlineData("address: \"1\"", new string[0], "address \"1\": is not an IP address")]
    [InlineData("imageGCHighThresholdPercent: 90", new[] { "--image-gc-low-threshold", "95" }, "--image-gc-low-threshold \"95\": can not be higher than the high threshold 90")]
    [InlineData("", new[] { "--image-gc-high-threshold", "101" }, "--image-gc-high-threshold \"101\"")]
    [InlineData("", new[] { "--max-pods", "0" }, "--max-pods \"0\"")]
    [InlineData("", new[] { "--allowed-unsafe-sysctls", "net.core.somaxconn,vm.swappiness" }, "--allowed-unsafe-sysctls \"vm.swappiness\": the sysctl \"vm.swappiness\" are not known to be namespaced")]
    [InlineData("allowedUnsafeSysctls: ['net.*.x']", new string[0], "allowedUnsafeSysctls \"net.*.x\": sysctl \"net.*.x\" must have at most 253 characters")]
    [InlineData("", new[] { "--read-only-port", "70000" }, "--read-only-port \"70000\"")]
    [InlineData("", new[] { "--file-check-frequency", "soon" }, "--file-check-frequency \"soon\"")]
    [InlineData("", new[] { "--manifest-url", "file:///etc/passwd" }, "--manifest-url \"file:///etc/passwd\": is not an http(s) URL")]
    [InlineData("", new[] { "--network-plugin", "weave" }, "--network-plugin \"weave\"")]
    [InlineData("", new[] { "--network-mtu", "20" }, "--network-mtu \"20\"")]
    [InlineData("", new[] { "--bridge-name", "a/b" }, "--bridge-name \"a/b\"")]
    [InlineData("", new[] { "--bridge-name", "a-very-long-bridge-name" }, "--bridge-name")]
    [InlineData("", new[] { "--logging-format", "xml" }, "--logging-format \"xml\": unsupported value")]
    [InlineData("fileCheckFrequency: 0s", new string[0], "fileCheckFrequency")]
    [InlineData("", new[] { "--node-labels", "a=b,bad key=x" }, "--node-labels: \"bad key\" is not a qualified name")]
    [InlineData("", new[] { "--node-labels", "a=$(evil)" }, "is not a label value")]
    [InlineData("", new[] { "--register-with-taints", "k=v:Sometimes" }, "--register-with-taints \"k=v:Sometimes\": taint effect")]
    [InlineData("registerWithTaints: [{key: k}]", new string[0], "registerWithTaints[0]: taint effect")]
    [InlineData("", new[] { "--kube-reserved", "gpu=1" }, "--kube-reserved: \"gpu\": only cpu, memory, ephemeral-storage and pid can be reserved")]
    [InlineData("systemReserved: {memory: 1.5.5}", new string[0], "systemReserved: memory \"1.5.5\"")]
    [InlineData("", new[] { "--eviction-hard", "memory.available<lots" }, "--eviction-hard: memory.available: invalid quantity lots")]
    [InlineData("evictionHard: {disk.full: 10%}", new string[0], "evictionHard: unknown eviction signal disk.full")]
    [InlineData("", new[] { "--node-status-update-frequency", "0s" }, "--node-status-update-frequency")]
    [InlineData("", new[] { "--kube-proxy-arg", "oops" }, "--kube-proxy-arg \"oops\": expected name=value")]
    [InlineData("", new[] { "--kube-proxy-arg", "a=1", "--kube-proxy-arg", "a=2" }, "a is given twice")]
    [InlineData("", new[] { "--kube-proxy-arg", "cleanup=true" }, "nodeagent proxy --cleanup")]
    [InlineData("", new[] { "--authorization-mode", "RBAC" }, "--authorization-mode \"RBAC\": expected Webhook or AlwaysAllow")]
    [InlineData("authorization: {mode: Node}", new string[0], "authorization.mode \"Node\": expected Webhook or AlwaysAllow")]
    [InlineData("authentication: {webhook: {cacheTTL: soon}}", new string[0], "authentication.webhook.cacheTTL: expected a duration")]
    [InlineData("authentication: {anonymous: {enabled: 1}}", new string[0], "authentication.anonymous.enabled: expected true or false")]
    [InlineData("authentication: x509", new string[0], "authentication: expected an object")]
    [InlineData("", new[] { "--healthz-bind-address", "localhost" }, "--healthz-bind-address \"localhost\": is not an IP address")]
    [InlineData("", new[] { "--port", "0" }, "--port \"0\": is not a port")]
    [InlineData("", new[] { "--tls-cert-file", "/x.crt" }, "--tls-cert-file and --tls-private-key-file go together")]
    public void InvalidValuesNameTheirFlagOrField(string yaml, string[] flags, string expected)
    {
        var file = Write(yaml);
        var e = Assert.Throws<KubeletConfigurationException>(() => ResolveArgs(["agent", "--config", file, .. flags], out _));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        if (flags.Length == 0)
        {
            Assert.Contains(file, e.Message, StringComparison.Ordinal);
        }
    }

    public void Dispose() => _dir.Dispose();

    private static string Headers(AgentOptions o) =>
        string.Join(';', o.Kubelet.StaticPodUrlHeader.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={string.Join('|', kv.Value)}"));

    private static RootCommand BuildRoot()
    {
        var root = new RootCommand { CommonOptions.RootDir, CommonOptions.RuntimeStateDir, CommonOptions.LogRoot, CommonOptions.CgroupRoot };
        root.Subcommands.Add(AgentCommand.Build());
        return root;
    }

    private AgentOptions Resolve(string? yaml, params string[] flags)
    {
        string[] args = yaml is null ? ["agent", .. flags] : ["agent", "--config", Write(yaml), .. flags];
        var options = ResolveArgs(args, out var warnings);
        Assert.Empty(warnings);
        return options;
    }

    private static AgentOptions ResolveArgs(string[] args, out List<string> warnings)
    {
        var pr = Root.Parse(args);
        Assert.Empty(pr.Errors);
        warnings = [];
        return AgentOptionsResolver.Resolve(pr, warnings);
    }

    private string Write(string yaml)
    {
        var file = _dir.Combine($"kubelet-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, $"apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n{yaml}\n");
        return file;
    }
}
