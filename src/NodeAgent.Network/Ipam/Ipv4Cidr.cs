using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace NodeAgent.Network.Ipam;

/// <summary>An IPv4 network such as 10.88.0.0/16: parsing with clear errors, and address arithmetic.</summary>
public sealed record Ipv4Cidr(uint Network, int PrefixLength)
{
    public static Ipv4Cidr Parse(string text, string what = "pod CIDR")
    {
        var slash = text.IndexOf('/');
        if (slash < 0 || !IPAddress.TryParse(text[..slash], out var ip) || ip.AddressFamily != AddressFamily.InterNetwork
            || !int.TryParse(text[(slash + 1)..], out var prefix) || prefix is < 1 or > 30)
        {
            throw new FormatException($"{what} {text}: not an IPv4 CIDR with a prefix length of 1 to 30 (e.g. 10.88.0.0/16)");
        }

        var value = BinaryPrimitives.ReadUInt32BigEndian(ip.GetAddressBytes());
        return new Ipv4Cidr(value & Mask(prefix), prefix);
    }

    /// <summary>The bridge's address: the first host address.</summary>
    public IPAddress Gateway => ToAddress(Network + 1);

    /// <summary>Addresses pods may get: after the gateway, before the broadcast address.</summary>
    public uint FirstHost => Network + 2;

    public uint LastHost => (Network | ~Mask(PrefixLength)) - 1;

    public int Size => (int)(LastHost - FirstHost + 1);

    public bool Contains(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork
        && (BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes()) & Mask(PrefixLength)) == Network;

    public static IPAddress ToAddress(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }

    public static uint ToUInt32(IPAddress address) => BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());

    public override string ToString() => $"{ToAddress(Network)}/{PrefixLength}";

    private static uint Mask(int prefix) => prefix == 0 ? 0 : uint.MaxValue << (32 - prefix);
}
