using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using k8s.Models;

namespace NodeAgent.Kubelet.Volumes;

/// <summary>
/// kubelet's service environment variables (<c>pkg/kubelet/envvars</c>): for each service with a cluster IP,
/// <c>NAME_SERVICE_HOST</c>, <c>NAME_SERVICE_PORT</c>, <c>NAME_SERVICE_PORT_PORTNAME</c> and the Docker-link form
/// (<c>NAME_PORT=tcp://ip:port</c>, <c>NAME_PORT_80_TCP</c>, <c>…_PROTO</c>, <c>…_PORT</c>, <c>…_ADDR</c>). The
/// services are those of the pod's namespace when <c>enableServiceLinks</c> (the default) and always the master
/// service <c>default/kubernetes</c>. A service whose cluster IP is not an IP address, or with a port outside
/// 1–65535, an unknown protocol, a name that is not a DNS label, or no port, is left out (the API server never stores one; the check keeps bad data out of a process's
/// environment).
/// </summary>
public static partial class ServiceEnv
{
    public static IReadOnlyDictionary<string, string> For(IEnumerable<V1Service> services, string ns, bool enableServiceLinks)
    {
        var chosen = new SortedDictionary<string, V1Service>(StringComparer.Ordinal);
        foreach (var s in services)
        {
            if (s?.Metadata?.Name is not { Length: > 0 } name || !DnsLabel().IsMatch(name) || !HasClusterIp(s))
            {
                continue;
            }

            if (s.Metadata.NamespaceProperty == "default" && name == "kubernetes")
            {
                chosen.TryAdd(name, s);
            }
            else if (s.Metadata.NamespaceProperty == ns && enableServiceLinks)
            {
                chosen[name] = s;
            }
        }

        var env = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in chosen.Values)
        {
            var ports = s.Spec.Ports ?? [];
            if (ports.Count == 0 || ports.Any(p => p is null || p.Port is < 1 or > 65535 || p.Protocol is not (null or "" or "TCP" or "UDP" or "SCTP")
                                                   || (!string.IsNullOrEmpty(p.Name) && !DnsLabel().IsMatch(p.Name))))
            {
                continue;
            }

            var prefix = VariableName(s.Metadata.Name);
            var ip = s.Spec.ClusterIP;
            env[prefix + "_SERVICE_HOST"] = ip;
            env[prefix + "_SERVICE_PORT"] = Port(ports[0].Port);
            foreach (var p in ports.Where(p => !string.IsNullOrEmpty(p.Name)))
            {
                env[prefix + "_SERVICE_PORT_" + VariableName(p.Name)] = Port(p.Port);
            }

            for (var i = 0; i < ports.Count; i++)
            {
                var p = ports[i];
                var protocol = string.IsNullOrEmpty(p.Protocol) ? "TCP" : p.Protocol;
                var url = $"{protocol.ToLowerInvariant()}://{HostPort(ip, p.Port)}";
                if (i == 0)
                {
                    // Docker special-cases the first port.
                    env[prefix + "_PORT"] = url;
                }

                var portPrefix = $"{prefix}_PORT_{Port(p.Port)}_{protocol.ToUpperInvariant()}";
                env[portPrefix] = url;
                env[portPrefix + "_PROTO"] = protocol.ToLowerInvariant();
                env[portPrefix + "_PORT"] = Port(p.Port);
                env[portPrefix + "_ADDR"] = ip;
            }
        }

        return env;
    }

    [GeneratedRegex(@"\A[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\z")]
    private static partial Regex DnsLabel();

    /// <summary>kubelet's makeEnvVariableName: upper case, '-' → '_'.</summary>
    public static string VariableName(string name) => name.Replace('-', '_').ToUpperInvariant();

    private static bool HasClusterIp(V1Service s) =>
        s.Spec?.ClusterIP is { Length: > 0 } ip && ip != "None" && IPAddress.TryParse(ip, out _) && !ip.Contains('%');

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static string HostPort(string ip, int port) => ip.Contains(':') ? $"[{ip}]:{Port(port)}" : $"{ip}:{Port(port)}";
}
