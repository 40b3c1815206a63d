using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace NodeAgent.Linux;

/// <summary>
/// A cheap sign that a legacy (x_tables) table changed: its entry count and blob size as the kernel reports them
/// (<c>getsockopt IPT_SO_GET_INFO</c>, no rule is copied). A program that adds, deletes or replaces rules changes
/// them; reading the rules themselves through iptables costs a parse of the whole table.
/// </summary>
public static class IptablesStamp
{
    private const int SolIp = 0, IptSoGetInfo = 64;

    // struct ipt_getinfo: name[32], valid_hooks, hook_entry[5], underflow[5], num_entries, size (u32 each).
    private const int InfoSize = 32 + 4 + 20 + 20 + 4 + 4;

    /// <summary>"entries/size" of each table, in the network namespace at <paramref name="netns"/> (null: the
    /// caller's); a table the kernel does not have reads "-".</summary>
    public static string Read(string? netns, IEnumerable<string> tables)
    {
        using var socket = netns is null ? Open() : NetworkNamespace.Run(netns, Open);
        var sb = new StringBuilder();
        Span<byte> info = stackalloc byte[InfoSize];
        foreach (var table in tables)
        {
            info.Clear();
            Encoding.ASCII.GetBytes(table, info[..31]);
            sb.Append(table).Append('=');
            try
            {
                socket.GetRawSocketOption(SolIp, IptSoGetInfo, info);
                sb.Append(BinaryPrimitives.ReadUInt32LittleEndian(info[76..])).Append('/').Append(BinaryPrimitives.ReadUInt32LittleEndian(info[80..]));
            }
            catch (SocketException)
            {
                sb.Append('-');
            }
            sb.Append(' ');
        }
        return sb.ToString();
    }

    private static Socket Open() => new(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Raw);
}
