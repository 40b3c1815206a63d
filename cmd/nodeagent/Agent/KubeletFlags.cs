using System.CommandLine;
using NodeAgent.Kubelet.Config;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// The agent's kubelet-named flags. Each one that has a KubeletConfiguration field overrides it when given on the
/// command line (<see cref="AgentOptionsResolver"/>); the help shows kubelet's default, which applies when neither
/// the flag nor the <c>--config</c> file sets the value.
/// </summary>
internal static class KubeletFlags
{
    private static readonly KubeletConfiguration Defaults = new();

    public static readonly Option<string?> Config = new("--config") { Description = "KubeletConfiguration file (kubelet.config.k8s.io/v1beta1); flags on the command line win over it" };
    public static readonly Option<string> PodManifestPath = new("--pod-manifest-path") { Description = "Directory (or file) of static pod manifests", DefaultValueFactory = _ => Defaults.StaticPodPath };
    public static readonly Option<string?> ManifestUrl = new("--manifest-url") { Description = "URL serving static pods (a Pod, a v1 PodList or multi-document YAML)" };
    public static readonly Option<string[]> ManifestUrlHeader = new("--manifest-url-header") { Description = "HTTP headers for --manifest-url, as 'key:value,key:value'; repeatable", AllowMultipleArgumentsPerToken = false };
    public static readonly Option<string?> KubeConfig = new("--kubeconfig") { Description = "Kubeconfig of the node's credential: joins the cluster it names (API server mode); without it the agent runs static pods only" };
    public static readonly Option<string?> HostnameOverride = new("--hostname-override") { Description = "Node name instead of the host name" };
    public static readonly Option<string?> NodeIp = new("--node-ip") { Description = "The node's IP address, or a dual-stack pair 'IPv4,IPv6' (status.hostIP); by default kubelet's detection: the node name's address, else the default route's interface" };
    public static readonly Option<int> MaxPods = new("--max-pods") { Description = "Pods this node admits; more are rejected with OutOfpods", DefaultValueFactory = _ => Defaults.MaxPods };
    public static readonly Option<int> ReadOnlyPort = new("--read-only-port") { Description = "Port of the read-only API (/healthz, /pods); 0 disables it", DefaultValueFactory = _ => Defaults.ReadOnlyPort };
    public static readonly Option<string> Address = new("--address") { Description = "Address the kubelet API (--port) and the read-only API bind", DefaultValueFactory = _ => Defaults.Address };
    public static readonly Option<string> FileCheckFrequency = new("--file-check-frequency") { Description = "Full re-read period of the manifest directory (inotify reports changes at once)", DefaultValueFactory = _ => "20s" };
    public static readonly Option<string> HttpCheckFrequency = new("--http-check-frequency") { Description = "Polling period of --manifest-url", DefaultValueFactory = _ => "20s" };
    public static readonly Option<string> LoggingFormat = new("--logging-format") { Description = "Log format: text (klog's single-line header and key=value) or json (one object per line)", DefaultValueFactory = _ => "text" };

    public static readonly Option<string> NodeLabels = new("--node-labels") { Description = "Labels to add when registering the node, as 'key=value,key=value' (kubernetes.io labels outside kubelet's allow-list are refused by the API server)", DefaultValueFactory = _ => "" };
    public static readonly Option<bool> RegisterNode = new("--register-node") { Description = "Register the node with the API server (else the Node must exist)", DefaultValueFactory = _ => Defaults.RegisterNode };
    public static readonly Option<string> RegisterWithTaints = new("--register-with-taints") { Description = "Taints to register the node with, as 'key=value:Effect,key:Effect'", DefaultValueFactory = _ => "" };
    public static readonly Option<string> NodeStatusUpdateFrequency = new("--node-status-update-frequency") { Description = "How often node status is computed; it is posted when it changed or every 5 minutes", DefaultValueFactory = _ => "10s" };
    public static readonly Option<int> KubeApiQps = new("--kube-api-qps") { Description = "Requests per second to the API server (client-side rate limit)", DefaultValueFactory = _ => Defaults.KubeApiQps };
    public static readonly Option<int> KubeApiBurst = new("--kube-api-burst") { Description = "Burst of requests allowed above --kube-api-qps", DefaultValueFactory = _ => Defaults.KubeApiBurst };
    public static readonly Option<string> KubeReserved = new("--kube-reserved") { Description = "Resources reserved for Kubernetes daemons, as 'cpu=100m,memory=100Mi,ephemeral-storage=1Gi,pid=1000'", DefaultValueFactory = _ => "" };
    public static readonly Option<string> SystemReserved = new("--system-reserved") { Description = "Resources reserved for the system's daemons, as --kube-reserved", DefaultValueFactory = _ => "" };
    public static readonly Option<string> EvictionHard = new("--eviction-hard") { Description = "Hard eviction thresholds, as 'memory.available<100Mi,nodefs.available<10%' (kubelet's defaults when not set)", DefaultValueFactory = _ => "" };

    public static readonly Option<bool> SeccompDefault = new("--seccomp-default") { Description = "Run containers that set no seccompProfile with the runtime's default profile (RuntimeDefault) instead of Unconfined", DefaultValueFactory = _ => Defaults.SeccompDefault };

    public static readonly Option<string[]> AllowedUnsafeSysctls = new("--allowed-unsafe-sysctls") { Description = "Comma-separated unsafe sysctls or sysctl patterns (ending in *) pods may set besides the safe ones; each must be namespaced (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.*)", AllowMultipleArgumentsPerToken = true };

    public static readonly Option<string> SyncFrequency = new("--sync-frequency") { Description = "How often configMap, secret, projected and downwardAPI volumes are written again from the API server", DefaultValueFactory = _ => "1m" };

    public static readonly Option<bool> LocalStorageCapacityIsolation = new("--local-storage-capacity-isolation") { Description = "Evict pods whose emptyDir usage passes its sizeLimit or whose containers pass their ephemeral-storage limits (kubelet's localStorageCapacityIsolation)", DefaultValueFactory = _ => Defaults.LocalStorageCapacityIsolation };
    public static readonly Option<string> EvictionMonitoringPeriod = new("--eviction-monitoring-period") { Description = "How often the eviction manager checks local storage against emptyDir sizeLimit and ephemeral-storage limits (kubelet's fixed 10s; not a kubelet flag)", DefaultValueFactory = _ => "10s" };
    public static readonly Option<string> FsStatsPeriod = new("--fs-stats-period") { Description = "How often writable layers, container logs and pod volumes are measured (du) in the background, for stats and evictions (cAdvisor's about 1m; not a kubelet flag)", DefaultValueFactory = _ => "1m" };

    public static IEnumerable<Option> All => [LocalStorageCapacityIsolation, EvictionMonitoringPeriod, FsStatsPeriod, .. KubeletApiFlags.All, SyncFrequency, SeccompDefault, NodeLabels, RegisterNode, RegisterWithTaints, NodeStatusUpdateFrequency, KubeApiQps, KubeApiBurst, KubeReserved, SystemReserved, EvictionHard, AllowedUnsafeSysctls, Config, KubeConfig, PodManifestPath, ManifestUrl, ManifestUrlHeader, HostnameOverride, NodeIp, MaxPods, ReadOnlyPort, Address, FileCheckFrequency, HttpCheckFrequency, LoggingFormat];
}
