namespace NodeAgent.Proxy;

/// <summary>The transport protocols the proxy programs. SCTP services are skipped with a log line.</summary>
public enum L4Protocol
{
    Tcp,
    Udp,
}

public static class L4Protocols
{
    /// <summary>iptables' name (<c>-p tcp</c>), also the lower-case protocol kube-proxy hashes chain names with.</summary>
    public static string Name(this L4Protocol protocol) => protocol == L4Protocol.Tcp ? "tcp" : "udp";

    /// <summary>The API's protocol (null means TCP, as the API server defaults it).</summary>
    public static bool TryParse(string? value, out L4Protocol protocol)
    {
        switch (value)
        {
            case null or "TCP":
                protocol = L4Protocol.Tcp;
                return true;
            case "UDP":
                protocol = L4Protocol.Udp;
                return true;
            default:
                protocol = default;
                return false;
        }
    }
}
