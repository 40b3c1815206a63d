using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace NodeAgent.Kubelet.Node;

/// <summary>
/// kubelet's node name and node IP rules. The name is <c>--hostname-override</c> or the host name, trimmed and
/// lower-cased (kubelet's <c>nodeutil.GetHostname</c>), and must be an RFC 1123 subdomain (it names the Node object
/// and is part of every static pod's name). The node IPs are, as kubelet's node status NodeAddress setter finds them
/// without a cloud provider:
/// <list type="number">
/// <item><c>--node-ip</c>: one address, or a dual-stack pair of one IPv4 and one IPv6 address; never loopback,
/// multicast, link-local or unspecified (except that <c>0.0.0.0</c> or <c>::</c> alone mean "detect, preferring
/// this family");</item>
/// <item>the host name override itself when it is an IP address;</item>
/// <item>the node name's addresses from the hosts file and DNS that are valid node IPs and on a local interface
/// (IPv4 preferred unless <c>--node-ip ::</c>);</item>
/// <item>the first global unicast address, of the preferred family, on the interface of a default route
/// (<c>ChooseHostInterface</c>).</item>
/// </list>
/// A given <c>--node-ip</c> that is not on a local interface is accepted with a warning: kubelet fails its node
/// status then, but a standalone node has no node status and only hands the address to its pods.
/// </summary>
public sealed partial class NodeIdentityResolver(IHostNetworkInfo host)
{
    /// <summary>kubelet's node name: the override or the host name, trimmed and lower-cased, validated.</summary>
    /// <exception cref="NodeIdentityException">Empty, or not an RFC 1123 subdomain.</exception>
    public static string NodeName(string? hostnameOverride, string hostName)
    {
        var name = (string.IsNullOrEmpty(hostnameOverride) ? hostName : hostnameOverride).Trim();
        var what = string.IsNullOrEmpty(hostnameOverride) ? "host name" : "--hostname-override";
        if (name.Length == 0)
        {
            throw new NodeIdentityException($"{what}: empty hostname is invalid");
        }

        name = name.ToLowerInvariant();
        if (name.Length > 253 || !Subdomain().IsMatch(name))
        {
            throw new NodeIdentityException(
                $"{what} \"{Printable(name)}\": a node name must be a lowercase RFC 1123 subdomain (letters, digits, '-' and '.', at most 253 characters, starting and ending with a letter or digit)");
        }

        return name;
    }

    /// <summary>Parses <c>--node-ip</c> as kubelet does: empty, one IP, or a dual-stack pair.</summary>
    /// <exception cref="NodeIdentityException">Not IPs, more than two, two of one family, or an unusable address.</exception>
    public static IReadOnlyList<IPAddress> ParseNodeIp(string? nodeIp)
    {
        if (string.IsNullOrWhiteSpace(nodeIp))
        {
            return [];
        }

        var parts = nodeIp.Split(',');
        var ips = new List<IPAddress>();
        foreach (var part in parts)
        {
            if (ParseIp(part.Trim()) is not { } ip)
            {
                throw new NodeIdentityException($"--node-ip \"{Printable(nodeIp)}\": could not parse \"{Printable(part)}\" as an IP address");
            }

            ips.Add(ip);
        }

        if (ips.Count > 2 || (ips.Count == 2 && ips[0].AddressFamily == ips[1].AddressFamily))
        {
            throw new NodeIdentityException($"--node-ip \"{Printable(nodeIp)}\": must contain either a single IP or a dual-stack pair of IPs");
        }

        if (ips.Count == 2 && ips.Any(IsUnspecified))
        {
            throw new NodeIdentityException($"--node-ip \"{Printable(nodeIp)}\": dual-stack --node-ip values may not contain \"0.0.0.0\" or \"::\"");
        }

        foreach (var ip in ips.Where(ip => !IsUnspecified(ip)))
        {
            if (Unusable(ip) is { } why)
            {
                throw new NodeIdentityException($"--node-ip \"{Printable(nodeIp)}\": {why}");
            }
        }

        return ips;
    }

    /// <summary>The node IPs by kubelet's rules (see the type); warnings for a given IP that is not local.</summary>
    /// <exception cref="NodeIdentityException">A bad <c>--node-ip</c>.</exception>
    public async Task<IReadOnlyList<IPAddress>> NodeAddressesAsync(string? nodeIp, string? hostnameOverride, string nodeName,
        ICollection<string> warnings, CancellationToken cancellationToken)
    {
        var given = ParseNodeIp(nodeIp);
        if (given.Count > 0 && !IsUnspecified(given[0]))
        {
            var local = host.InterfaceAddresses().Select(a => a.Address).ToHashSet();
            foreach (var ip in given.Where(ip => !local.Contains(ip)))
            {
                warnings.Add($"--node-ip: node IP \"{ip}\" not found in the host's network interfaces (pods still get it as their hostIP)");
            }

            return given;
        }

        var preferred = given.Count == 1 && given[0].AddressFamily == AddressFamily.InterNetworkV6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        if (ParseIp(hostnameOverride?.Trim()) is { } overrideIp)
        {
            return [overrideIp];
        }

        var localAddresses = host.InterfaceAddresses();
        var localSet = localAddresses.Select(a => a.Address).ToHashSet();
        IPAddress? chosen = null;
        foreach (var ip in await host.LookupAsync(nodeName, cancellationToken))
        {
            if (Unusable(ip) is null && localSet.Contains(ip))
            {
                if (ip.AddressFamily == preferred)
                {
                    chosen = ip;
                    break;
                }

                chosen ??= ip;
            }
        }

        chosen ??= FromDefaultRoute(localAddresses, preferred) ?? FromDefaultRoute(localAddresses, Other(preferred));
        if (chosen is null)
        {
            warnings.Add($"can't get ip address of node {nodeName}: it does not resolve to a local address and there is no default route with a global address; pods get no hostIP (set --node-ip)");
            return [];
        }

        return [chosen];
    }

    private IPAddress? FromDefaultRoute(IReadOnlyList<(string Interface, IPAddress Address)> addresses, AddressFamily family)
    {
        foreach (var name in host.DefaultRouteInterfaces(family))
        {
            var ip = addresses.Where(a => a.Interface == name && a.Address.AddressFamily == family && IsGlobalUnicast(a.Address))
                .Select(a => a.Address).FirstOrDefault();
            if (ip is not null)
            {
                return ip;
            }
        }

        return null;
    }

    /// <summary>kubelet's validateNodeIP checks that do not depend on the host; null when the address is usable.</summary>
    private static string? Unusable(IPAddress ip)
    {
        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }

        return ip switch
        {
            _ when IPAddress.IsLoopback(ip) => $"nodeIP {ip} can't be loopback address",
            _ when IsMulticast(ip) => $"nodeIP {ip} can't be a multicast address",
            _ when IsLinkLocal(ip) => $"nodeIP {ip} can't be a link-local unicast address",
            _ when IsUnspecified(ip) => $"nodeIP {ip} can't be an all zeros address",
            _ => null,
        };
    }

    /// <summary>
    /// An IP address in its usual notation only: four dotted decimals or IPv6 (no zone, no prefix). The BCL's
    /// parser also takes <c>1</c> or <c>1.2</c> as IPv4 addresses, which would make a host name such as <c>123</c> an IP.
    /// </summary>
    public static IPAddress? ParseIp(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Contains('%') || text.Contains('/'))
        {
            return null;
        }

        if (!text.Contains(':') && !DottedQuad().IsMatch(text))
        {
            return null;
        }

        return IPAddress.TryParse(text, out var ip) ? ip : null;
    }

    private static bool IsGlobalUnicast(IPAddress ip) =>
        !IPAddress.IsLoopback(ip) && !IsMulticast(ip) && !IsLinkLocal(ip) && !IsUnspecified(ip)
        && !(ip.AddressFamily == AddressFamily.InterNetwork && ip.Equals(IPAddress.Broadcast));

    private static bool IsUnspecified(IPAddress ip) => ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any);

    private static bool IsMulticast(IPAddress ip) =>
        ip.AddressFamily == AddressFamily.InterNetwork ? (ip.GetAddressBytes()[0] & 0xF0) == 0xE0 : ip.IsIPv6Multicast;

    private static bool IsLinkLocal(IPAddress ip) =>
        ip.AddressFamily == AddressFamily.InterNetwork ? ip.GetAddressBytes() is [169, 254, ..] : ip.IsIPv6LinkLocal;

    private static AddressFamily Other(AddressFamily f) => f == AddressFamily.InterNetwork ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;

    private static string Printable(string s)
    {
        var t = new string(s.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return t.Length > 80 ? t[..80] + "…" : t;
    }

    [GeneratedRegex("^[0-9]{1,3}(\\.[0-9]{1,3}){3}$")]
    private static partial Regex DottedQuad();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Subdomain();
}
