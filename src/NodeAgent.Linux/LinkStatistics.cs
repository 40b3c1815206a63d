using System.Buffers.Binary;
using System.Text;

namespace NodeAgent.Linux;

/// <summary>
/// Interface counters of one network namespace through rtnetlink (an RTM_GETLINK dump, IFLA_STATS64 of each link),
/// never by running <c>ip</c> or reading <c>/proc/net/dev</c> of some process. The socket is opened once, inside the
/// namespace (on a throw-away thread when it is another namespace), and stays bound to it, so later reads run on any
/// thread without entering the namespace again. Not thread-safe: one caller at a time.
/// </summary>
public sealed class LinkStatistics : IDisposable
{
    private const ushort RTM_NEWLINK = 16, RTM_GETLINK = 18, NLMSG_ERROR = 2, NLMSG_DONE = 3;
    private const ushort NLM_F_REQUEST = 1, NLM_F_DUMP = 0x300;
    private const ushort IFLA_IFNAME = 3, IFLA_STATS64 = 23;

    private readonly NetlinkSocket _socket;
    private readonly byte[] _receive = new byte[64 * 1024];
    private readonly Dictionary<int, string> _names = [];
    private uint _sequence;

    private LinkStatistics(NetlinkSocket socket) => _socket = socket;

    /// <summary>Counters of the caller's network namespace.</summary>
    public static LinkStatistics OpenHere() => new(NetlinkSocket.Open());

    /// <summary>Counters of the namespace at <paramref name="netnsPath"/> (a pinned nsfs file or /proc/PID/ns/net).</summary>
    public static LinkStatistics OpenIn(string netnsPath) => NetworkNamespace.Run(netnsPath, OpenHere);

    /// <summary>Every link's counters, appended to <paramref name="into"/> (cleared first).</summary>
    /// <exception cref="LinuxException">The dump failed (the kernel's errno).</exception>
    public void Read(List<LinkCounters> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        into.Clear();
        Span<byte> request = stackalloc byte[32];
        request.Clear();
        uint seq = ++_sequence;
        BinaryPrimitives.WriteUInt32LittleEndian(request, 32);
        BinaryPrimitives.WriteUInt16LittleEndian(request[4..], RTM_GETLINK);
        BinaryPrimitives.WriteUInt16LittleEndian(request[6..], NLM_F_REQUEST | NLM_F_DUMP);
        BinaryPrimitives.WriteUInt32LittleEndian(request[8..], seq);
        _socket.Send(request); // ifinfomsg all zero: AF_UNSPEC, every link

        while (true)
        {
            int n = _socket.Receive(_receive);
            int offset = 0;
            while (offset + 16 <= n)
            {
                var msg = _receive.AsSpan(offset, n - offset);
                int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(msg);
                ushort type = BinaryPrimitives.ReadUInt16LittleEndian(msg[4..]);
                uint msgSeq = BinaryPrimitives.ReadUInt32LittleEndian(msg[8..]);
                if (length < 16 || length > msg.Length)
                {
                    break;
                }

                if (msgSeq == seq)
                {
                    if (type == NLMSG_DONE)
                    {
                        return;
                    }

                    if (type == NLMSG_ERROR)
                    {
                        int errno = -BinaryPrimitives.ReadInt32LittleEndian(msg[16..]);
                        if (errno != 0)
                        {
                            throw new LinuxException("netlink RTM_GETLINK dump", null, errno);
                        }

                        return;
                    }

                    if (type == RTM_NEWLINK && length >= 32)
                    {
                        Parse(msg[..length], into);
                    }
                }

                offset += (length + 3) & ~3;
            }
        }
    }

    private void Parse(ReadOnlySpan<byte> msg, List<LinkCounters> into)
    {
        int index = BinaryPrimitives.ReadInt32LittleEndian(msg[20..]);
        ReadOnlySpan<byte> name = default, stats = default;
        var attrs = msg[32..];
        while (attrs.Length >= 4)
        {
            int len = BinaryPrimitives.ReadUInt16LittleEndian(attrs);
            ushort type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(attrs[2..]) & 0x3fff);
            if (len < 4 || len > attrs.Length)
            {
                break;
            }

            var value = attrs[4..len];
            if (type == IFLA_IFNAME)
            {
                name = value.IndexOf((byte)0) is var z && z >= 0 ? value[..z] : value;
            }
            else if (type == IFLA_STATS64)
            {
                stats = value;
            }

            attrs = attrs[Math.Min(attrs.Length, (len + 3) & ~3)..];
        }

        if (name.IsEmpty || stats.Length < 64)
        {
            return;
        }

        // rtnl_link_stats64: rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped, tx_dropped, ...
        Span<ulong> u = stackalloc ulong[8];
        for (int i = 0; i < 8; i++)
        {
            u[i] = BinaryPrimitives.ReadUInt64LittleEndian(stats[(i * 8)..]);
        }

        into.Add(new LinkCounters(NameOf(index, name), u[2], u[0], u[4], u[6], u[3], u[1], u[5], u[7]));
    }

    /// <summary>The link's name, decoded once per index and name.</summary>
    private string NameOf(int index, ReadOnlySpan<byte> name)
    {
        if (_names.TryGetValue(index, out var known) && Ascii.Equals(name, known))
        {
            return known;
        }

        return _names[index] = Encoding.UTF8.GetString(name);
    }

    public void Dispose() => _socket.Dispose();
}
