using System.Security.Cryptography;
using System.Text;

namespace NodeAgent.Proxy.Iptables;

/// <summary>
/// kube-proxy's chain names: the fixed chains, and per service port and endpoint a prefix plus the first 16
/// characters of the standard base32 (RFC 4648, upper case, A-Z2-7) of the sha256 of
/// <c>servicePortName + protocol</c> (+ <c>ip:port</c> for an endpoint), the protocol in lower case. Identical
/// names mean a node handed from kube-proxy to NodeAgent (or back) rewrites chains rather than leaking them.
/// </summary>
public static class ChainNames
{
    public const string Services = "KUBE-SERVICES", ExternalServices = "KUBE-EXTERNAL-SERVICES", NodePorts = "KUBE-NODEPORTS",
        Postrouting = "KUBE-POSTROUTING", MarkMasq = "KUBE-MARK-MASQ", Forward = "KUBE-FORWARD", ProxyFirewall = "KUBE-PROXY-FIREWALL";

    public const string ServicePrefix = "KUBE-SVC-", LocalPrefix = "KUBE-SVL-", ExternalPrefix = "KUBE-EXT-", FirewallPrefix = "KUBE-FW-",
        EndpointPrefix = "KUBE-SEP-";

    /// <summary>The fixed chains of each table.</summary>
    public static readonly string[] FilterChains = [Services, ExternalServices, Forward, NodePorts, ProxyFirewall];

    public static readonly string[] NatChains = [Services, NodePorts, Postrouting, MarkMasq];

    /// <summary>The userspace mode's chains: kube-proxy's userspace proxier's, and KUBE-PORTALS-REJECT (NodeAgent's:
    /// services without endpoints refuse at once).</summary>
    public const string PortalsContainer = "KUBE-PORTALS-CONTAINER", PortalsHost = "KUBE-PORTALS-HOST",
        NodePortContainer = "KUBE-NODEPORT-CONTAINER", NodePortHost = "KUBE-NODEPORT-HOST",
        NodePortNonLocal = "KUBE-NODEPORT-NON-LOCAL", PortalsReject = "KUBE-PORTALS-REJECT";

    public static readonly string[] UserspaceFilterChains = [PortalsReject, NodePortNonLocal];

    public static readonly string[] UserspaceNatChains = [PortalsContainer, PortalsHost, NodePortContainer, NodePortHost];

    private static readonly string[] HashedPrefixes = [ServicePrefix, LocalPrefix, ExternalPrefix, FirewallPrefix, EndpointPrefix];

    public static string Service(string servicePortName, L4Protocol protocol) => ServicePrefix + Hash(servicePortName, protocol, null);

    public static string Local(string servicePortName, L4Protocol protocol) => LocalPrefix + Hash(servicePortName, protocol, null);

    public static string External(string servicePortName, L4Protocol protocol) => ExternalPrefix + Hash(servicePortName, protocol, null);

    public static string Firewall(string servicePortName, L4Protocol protocol) => FirewallPrefix + Hash(servicePortName, protocol, null);

    public static string Endpoint(string servicePortName, L4Protocol protocol, string endpoint) => EndpointPrefix + Hash(servicePortName, protocol, endpoint);

    /// <summary>A per-service or per-endpoint chain of ours (what a sync may delete when no longer used).</summary>
    public static bool IsHashed(string chain) => HashedPrefixes.Any(p => chain.StartsWith(p, StringComparison.Ordinal));

    private static string Hash(string servicePortName, L4Protocol protocol, string? endpoint)
    {
        var input = servicePortName + protocol.Name() + endpoint;
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(input), hash);
        return Base32Prefix(hash);
    }

    /// <summary>The first 16 characters of the standard base32 of the hash: 10 bytes make exactly 16 characters.</summary>
    private static string Base32Prefix(ReadOnlySpan<byte> hash)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        Span<char> chars = stackalloc char[16];
        ulong buffer = 0;
        int bits = 0, n = 0;
        for (var i = 0; i < 10; i++)
        {
            buffer = (buffer << 8) | hash[i];
            bits += 8;
            while (bits >= 5)
            {
                chars[n++] = alphabet[(int)((buffer >> (bits - 5)) & 31)];
                bits -= 5;
            }
        }
        return new string(chars);
    }
}
