
namespace NodeAgent.Cri;

/// <summary>What the kubelet side asks of a pod sandbox (the CRI's PodSandboxConfig, trimmed to what NodeAgent uses).</summary>
public sealed record PodSandboxConfig
{
    public required string Name { get; init; }

    public string Namespace { get; init; } = "default";

    public required string Uid { get; init; }

    public uint Attempt { get; init; }

    public string? Hostname { get; init; }

    /// <summary>Directory of the pod's container logs, e.g. <c>/var/log/pods/&lt;ns&gt;_&lt;name&gt;_&lt;uid&gt;</c>.</summary>
    public required string LogDirectory { get; init; }

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();

    /// <summary>Cgroup parent of the pod relative to the cgroup root (e.g. <c>kubepods/burstable/pod&lt;uid&gt;</c>).</summary>
    public required string CgroupParent { get; init; }

    public LinuxContainerResources PodResources { get; init; } = new();

    public bool HostNetwork { get; init; }

    public bool HostPid { get; init; }

    public bool HostIpc { get; init; }

    /// <summary>shareProcessNamespace: containers of the pod share one PID namespace.</summary>
    public bool SharePid { get; init; }

    /// <summary>The pod's sysctls (dotted names; already admitted by the kubelet), written in the sandbox's own
    /// network and IPC namespaces when it is created.</summary>
    public IReadOnlyDictionary<string, string> Sysctls { get; init; } = new Dictionary<string, string>();

    public long ShmSizeBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>The pod's resolv.conf; null copies the node's.</summary>
    public DnsConfig? DnsConfig { get; init; }

    /// <summary>Ports published on the node (hostPort).</summary>
    public IReadOnlyList<PortMapping> PortMappings { get; init; } = [];

    public IReadOnlyList<HostAlias> HostAliases { get; init; } = [];

    /// <summary>The pod's fully qualified name (<c>hostname.subdomain.ns.svc.domain</c>) when it has a subdomain.</summary>
    public string? HostnameFqdn { get; init; }
}
