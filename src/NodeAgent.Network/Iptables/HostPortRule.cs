using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NodeAgent.Cri;

namespace NodeAgent.Network.Iptables;

/// <summary>
/// One hostPort mapping parsed into the values an iptables rule may hold. Rule text is built only from these
/// parsed values (addresses re-formatted from <see cref="IPAddress"/>, ports as integers, the protocol from a closed
/// set), never from the strings a pod spec carried, so no value can add a line to the <c>iptables-restore</c> input.
/// </summary>
public sealed record HostPortRule(string Protocol, IPAddress? HostIp, int HostPort, IPAddress PodIp, int ContainerPort)
{
    /// <summary>Parses a mapping of the pod at <paramref name="podIp"/>; false with the reason when any value is invalid.</summary>
    public static bool TryParse(PortMapping mapping, string podIp, out HostPortRule rule, out string error)
    {
        rule = null!;
        var protocol = mapping.Protocol switch
        {
            "TCP" or "tcp" => "tcp",
            "UDP" or "udp" => "udp",
            "SCTP" or "sctp" => "sctp",
            _ => null,
        };
        if (protocol is null)
        {
            error = $"protocol {Quote(mapping.Protocol)}: must be TCP, UDP or SCTP";
            return false;
        }
        if (mapping.HostPort is < 1 or > 65535)
        {
            error = $"hostPort {mapping.HostPort}: must be between 1 and 65535";
            return false;
        }
        if (mapping.ContainerPort is < 1 or > 65535)
        {
            error = $"containerPort {mapping.ContainerPort}: must be between 1 and 65535";
            return false;
        }
        IPAddress? hostIp = null;
        if (!string.IsNullOrEmpty(mapping.HostIp) && mapping.HostIp != "0.0.0.0")
        {
            if (!TryParseIpv4(mapping.HostIp, out hostIp))
            {
                error = $"hostIP {Quote(mapping.HostIp)}: must be an IPv4 address";
                return false;
            }
        }
        if (!TryParseIpv4(podIp, out var pod))
        {
            error = $"pod IP {Quote(podIp)}: must be an IPv4 address";
            return false;
        }
        rule = new HostPortRule(protocol, hostIp, mapping.HostPort, pod, mapping.ContainerPort);
        error = string.Empty;
        return true;
    }

    /// <summary>The match part of the rule: destination, protocol and port.</summary>
    public string Match()
    {
        var dest = HostIp is null ? string.Empty : $"-d {HostIp}/32 ";
        return string.Create(CultureInfo.InvariantCulture, $"{dest}-p {Protocol} -m {Protocol} --dport {HostPort}");
    }

    public string Destination() => string.Create(CultureInfo.InvariantCulture, $"{PodIp}:{ContainerPort}");

    // Strict dotted-quad: IPAddress.TryParse alone also takes "1", "0x7f.1" and addresses with a scope or port.
    private static bool TryParseIpv4(string text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.Length > 15 || text.Split('.') is not { Length: 4 } parts
            || parts.Any(p => p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit)))
        {
            return false;
        }
        if (!IPAddress.TryParse(text, out var parsed) || parsed.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }
        address = parsed;
        return true;
    }

    private static string Quote(string? value) =>
        "\"" + new string((value ?? string.Empty).Take(64).Select(c => char.IsControl(c) ? '?' : c).ToArray()) + "\"";
}
