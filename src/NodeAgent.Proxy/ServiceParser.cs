using System.Net;
using System.Net.Sockets;
using k8s.Models;

namespace NodeAgent.Proxy;

/// <summary>
/// Turns a <see cref="V1Service"/> into the ports the proxy programs, checking every value first: a service that
/// is not proxied (headless, ExternalName, no IPv4 cluster IP) gives no ports; a service with a value the node cannot
/// program (an invalid IP, a port out of range, an unknown protocol, a bad affinity timeout) gives an error naming the
/// field and is skipped whole, so no half of it is programmed.
/// </summary>
public static class ServiceParser
{
    public const int DefaultStickySeconds = 10800, MaxStickySeconds = 86400;

    public sealed record Result(ServiceName Name, IReadOnlyList<ServicePort> Ports, string? Error);

    public static Result Parse(V1Service service)
    {
        var ns = service.Metadata?.NamespaceProperty;
        var name = service.Metadata?.Name;
        var id = new ServiceName(ns ?? "", name ?? "");
        if (!ApiNames.IsDnsLabel(ns) || !ApiNames.IsDnsLabel(name))
        {
            return new Result(id, [], $"service {Printable(ns)}/{Printable(name)}: namespace and name must be DNS labels");
        }

        var spec = service.Spec;
        if (spec is null || spec.Type == "ExternalName" || string.IsNullOrEmpty(spec.ClusterIP) || spec.ClusterIP == "None")
        {
            return new Result(id, [], null);
        }

        try
        {
            return new Result(id, ParsePorts(id, service, spec), null);
        }
        catch (FormatException ex)
        {
            return new Result(id, [], $"service {id}: {ex.Message}");
        }
    }

    private static List<ServicePort> ParsePorts(ServiceName id, V1Service service, V1ServiceSpec spec)
    {
        var clusterIP = ParseIP(spec.ClusterIP, "spec.clusterIP");
        if (clusterIP.AddressFamily != AddressFamily.InterNetwork)
        {
            // An IPv6 service belongs to an IPv6 proxier; this one programs IPv4.
            return [];
        }

        var externalIPs = ParseIPs(spec.ExternalIPs, "spec.externalIPs");
        var lbIPs = ParseIPs(service.Status?.LoadBalancer?.Ingress?.Where(i => !string.IsNullOrEmpty(i.Ip)).Select(i => i.Ip).ToList(),
            "status.loadBalancer.ingress[].ip");
        var sourceRanges = (spec.LoadBalancerSourceRanges ?? []).Select((r, i) => ParseCidr(r, $"spec.loadBalancerSourceRanges[{i}]"))
            .Where(r => r.Network.AddressFamily == AddressFamily.InterNetwork).ToList();
        int? sticky = null;
        if (spec.SessionAffinity == "ClientIP")
        {
            var seconds = spec.SessionAffinityConfig?.ClientIP?.TimeoutSeconds ?? DefaultStickySeconds;
            if (seconds is < 1 or > MaxStickySeconds)
            {
                throw new FormatException($"spec.sessionAffinityConfig.clientIP.timeoutSeconds {seconds} is outside 1-{MaxStickySeconds}");
            }
            sticky = seconds;
        }
        else if (spec.SessionAffinity is not (null or "None"))
        {
            throw new FormatException($"spec.sessionAffinity {Printable(spec.SessionAffinity)} is neither None nor ClientIP");
        }

        var isNodePortType = spec.Type is "NodePort" or "LoadBalancer";
        var externallyAccessible = isNodePortType || externalIPs.Count > 0;
        var externalLocal = externallyAccessible && spec.ExternalTrafficPolicy == "Local";
        var internalLocal = spec.InternalTrafficPolicy == "Local";
        var healthCheck = externalLocal && spec.HealthCheckNodePort is { } hc ? CheckPort(hc, "spec.healthCheckNodePort") : 0;

        var ports = new List<ServicePort>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (spec.Ports?.Count ?? 0); i++)
        {
            var p = spec.Ports![i];
            var where = $"spec.ports[{i}]";
            if (!ApiNames.IsPortName(p.Name))
            {
                throw new FormatException($"{where}.name {Printable(p.Name)} is not a valid port name");
            }
            if (!seen.Add(p.Name ?? ""))
            {
                throw new FormatException($"{where}.name {Printable(p.Name)} is used twice");
            }
            if (!L4Protocols.TryParse(p.Protocol, out var protocol))
            {
                throw new FormatException($"{where}.protocol {Printable(p.Protocol)} cannot be programmed (TCP and UDP can)");
            }

            ports.Add(new ServicePort
            {
                Name = new ServicePortName(id, p.Name ?? ""),
                ClusterIP = clusterIP,
                Port = CheckPort(p.Port, where + ".port"),
                Protocol = protocol,
                NodePort = isNodePortType && p.NodePort is { } np && np != 0 ? CheckPort(np, where + ".nodePort") : 0,
                ExternalIPs = externalIPs,
                LoadBalancerIPs = spec.Type == "LoadBalancer" ? lbIPs : [],
                LoadBalancerSourceRanges = sourceRanges,
                StickySeconds = sticky,
                ExternalPolicyLocal = externalLocal,
                InternalPolicyLocal = internalLocal,
                HealthCheckNodePort = healthCheck,
            });
        }

        return ports;
    }

    internal static int CheckPort(int port, string where) =>
        port is >= 1 and <= 65535 ? port : throw new FormatException($"{where} {port} is outside 1-65535");

    private static IPAddress ParseIP(string? value, string where) =>
        value is not null && IPAddress.TryParse(value, out var ip) && IsStrict(value, ip)
            ? ip
            : throw new FormatException($"{where} {Printable(value)} is not an IP address");

    /// <summary>IPv4 addresses of a list (IPv6 ones are another proxier's); an unparsable entry is an error.</summary>
    private static List<IPAddress> ParseIPs(IList<string>? values, string where)
    {
        var ips = new List<IPAddress>();
        foreach (var v in values ?? [])
        {
            var ip = ParseIP(v, where);
            if (ip.AddressFamily == AddressFamily.InterNetwork)
            {
                ips.Add(ip);
            }
        }
        return ips;
    }

    internal static (IPAddress Network, int Prefix) ParseCidr(string? value, string where)
    {
        var slash = value?.IndexOf('/') ?? -1;
        if (value is null || slash < 0 || !IPAddress.TryParse(value.AsSpan(0, slash), out var ip) || !IsStrict(value[..slash], ip) ||
            !int.TryParse(value.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var prefix) ||
            prefix > (ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
        {
            throw new FormatException($"{where} {Printable(value)} is not a CIDR");
        }
        return (Mask(ip, prefix), prefix);
    }

    private static IPAddress Mask(IPAddress ip, int prefix)
    {
        var bytes = ip.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var bits = Math.Clamp(prefix - i * 8, 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - bits));
        }
        return new IPAddress(bytes);
    }

    // .NET also accepts "1", "0x1.2" or "010.0.0.1" as IPv4, and scope IDs on IPv6; the API server takes neither.
    internal static bool IsStrict(string value, IPAddress ip) =>
        ip.AddressFamily == AddressFamily.InterNetwork ? ip.ToString() == value : value.IndexOf('%') < 0 && value.IndexOf('.') < 0;

    /// <summary>A value from the API as it may appear in a log line: quoted, control characters escaped, cut at 64.</summary>
    internal static string Printable(string? value)
    {
        if (value is null)
        {
            return "(unset)";
        }
        var sb = new System.Text.StringBuilder("\"");
        foreach (var c in value.Length > 64 ? value[..64] : value)
        {
            sb.Append(char.IsControl(c) || c is '"' or '\\' ? $"\\u{(int)c:x4}" : c.ToString());
        }
        return sb.Append(value.Length > 64 ? "\"…" : "\"").ToString();
    }
}
