using k8s.Models;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// The runtime's sandbox config for a pod: names, log directory, cgroup parent by QoS class, host namespaces, DNS
/// by dnsPolicy, hostname and FQDN, hostAliases, hostPort mappings and sysctls.
/// </summary>
/// <param name="dnsWarning">Told of a MissingClusterDNS fallback (kubelet records it as an event).</param>
public sealed class PodSandboxFactory(string podLogRoot, PodDnsOptions? dns = null, Action<V1Pod, string, string>? dnsWarning = null)
{
    private readonly PodDnsConfigurer _dns = new(dns ?? new PodDnsOptions());
    private readonly string _clusterDomain = (dns ?? new PodDnsOptions()).ClusterDomain;

    /// <summary>Where the pods' log directories live (<c>--pod-log-dir</c>, <c>/var/log/pods</c>).</summary>
    public string PodLogRoot => podLogRoot;

    public PodSandboxConfig Create(V1Pod pod, uint attempt)
    {
        var uid = pod.Metadata.Uid;
        var (dnsConfig, warning) = _dns.For(pod);
        if (warning is not null)
        {
            dnsWarning?.Invoke(pod, PodDnsConfigurer.MissingClusterDnsReason, warning);
        }

        var hostname = pod.Spec.Hostname ?? pod.Metadata.Name;
        var ns = pod.Metadata.NamespaceProperty ?? "default";
        var parent = KubepodsLayout.PodPath(QosClassifier.Classify(pod), uid);
        return new PodSandboxConfig
        {
            Name = pod.Metadata.Name,
            Namespace = pod.Metadata.NamespaceProperty ?? "default",
            Uid = uid,
            Attempt = attempt,
            Hostname = hostname,
            HostnameFqdn = string.IsNullOrEmpty(pod.Spec.Subdomain) ? null : $"{hostname}.{pod.Spec.Subdomain}.{ns}.svc.{_clusterDomain}",
            DnsConfig = dnsConfig,
            HostAliases = (pod.Spec.HostAliases ?? []).Select(a => new HostAlias(a.Ip, [.. a.Hostnames ?? []])).ToList(),
            PortMappings = PortMappings(pod),
            LogDirectory = PodPaths.LogDirectory(podLogRoot, pod),
            CgroupParent = parent,
            HostNetwork = pod.Spec.HostNetwork ?? false,
            HostPid = pod.Spec.HostPID ?? false,
            HostIpc = pod.Spec.HostIPC ?? false,
            SharePid = pod.Spec.ShareProcessNamespace ?? false,
            // kubelet: the pod's sysctls in dotted form (admission has checked them against the allowlist).
            Sysctls = (pod.Spec.SecurityContext?.Sysctls ?? [])
                .Where(s => !string.IsNullOrEmpty(s?.Name))
                .GroupBy(s => SysctlNames.ToDotted(s.Name), StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Last().Value ?? "", StringComparer.Ordinal),
            Labels = new Dictionary<string, string>
            {
                [ContainerConfigFactory.PodUidLabel] = uid,
                [ContainerConfigFactory.PodNameLabel] = pod.Metadata.Name,
                [ContainerConfigFactory.PodNamespaceLabel] = pod.Metadata.NamespaceProperty ?? "default",
            },
        };
    }

    /// <summary>The containers' ports that ask for a hostPort, as kubelet hands them to the runtime.</summary>
    public static IReadOnlyList<PortMapping> PortMappings(V1Pod pod) =>
        pod.Spec.Containers.SelectMany(c => c.Ports ?? [])
            .Where(p => p.HostPort is > 0)
            .Select(p => new PortMapping { Protocol = p.Protocol ?? "TCP", ContainerPort = p.ContainerPort, HostPort = p.HostPort!.Value, HostIp = p.HostIP })
            .ToList();
}
