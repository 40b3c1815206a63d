using System.Buffers.Binary;
using System.Net;

namespace NodeAgent.Linux;

/// <summary>One IPv4 conntrack entry: protocol, original direction, and the reply's source (where a DNAT sent it).</summary>
public sealed record ConntrackFlow(byte Protocol, IPAddress OrigSource, int OrigSourcePort, IPAddress OrigDestination, int OrigDestinationPort,
    IPAddress ReplySource, int ReplySourcePort);

/// <summary>
/// The kernel's connection tracking table over ctnetlink (NETLINK_NETFILTER), not by running <c>conntrack</c>: a dump
/// of the IPv4 entries, and deletion of the entries a predicate picks (each by its original tuple, as the dump gave
/// it). Works in the caller's network namespace or, given its path, in another one.
/// </summary>
public static class Conntrack
{
    public const byte Udp = 17, Tcp = 6;

    private const ushort CtNew = 0x100, CtGet = 0x101, CtDelete = 0x102;
    private const ushort NlmRequest = 0x1, NlmAck = 0x4, NlmDump = 0x300, NlmsgError = 2, NlmsgDone = 3;
    private const ushort TupleOrig = 1, TupleReply = 2, TupleIp = 1, TupleProto = 2, IpV4Src = 1, IpV4Dst = 2, ProtoNum = 1, ProtoSrcPort = 2, ProtoDstPort = 3;
    private const byte AfInet = 2;

    /// <summary>Every IPv4 entry.</summary>
    public static List<ConntrackFlow> List(string? netns) => InNamespace(netns, () =>
    {
        using var socket = NetlinkSocket.Open(NetlinkSocket.NETLINK_NETFILTER);
        return Dump(socket).Select(f => f.Flow).ToList();
    });

    /// <summary>Deletes the IPv4 entries <paramref name="pick"/> selects; returns how many went (an entry already
    /// gone counts as gone).</summary>
    public static int Delete(string? netns, Func<ConntrackFlow, bool> pick) => InNamespace(netns, () =>
    {
        using var socket = NetlinkSocket.Open(NetlinkSocket.NETLINK_NETFILTER);
        var doomed = Dump(socket).Where(f => pick(f.Flow)).ToList();
        uint seq = 100;
        foreach (var (_, origTuple) in doomed)
        {
            var message = new byte[20 + origTuple.Length];
            Header(message, CtDelete, NlmRequest | NlmAck, ++seq);
            origTuple.CopyTo(message.AsSpan(20));
            socket.Send(message);
            var error = ReadAck(socket, seq);
            if (error != 0 && error != -ErrnoNames.ENOENT)
            {
                throw new LinuxException("conntrack delete", null, -error);
            }
        }
        return doomed.Count;
    });

    private static T InNamespace<T>(string? netns, Func<T> work) => netns is null ? work() : NetworkNamespace.Run(netns, work);

    private static void Header(Span<byte> message, ushort type, ushort flags, uint seq)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(message[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(message[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(message[8..], seq);
        BinaryPrimitives.WriteUInt32LittleEndian(message[12..], 0);
        message[16] = AfInet; // nfgenmsg: family, version 0, res_id 0
        message[17] = 0;
        message[18] = 0;
        message[19] = 0;
    }

    private static List<(ConntrackFlow Flow, byte[] OrigTuple)> Dump(NetlinkSocket socket)
    {
        var request = new byte[20];
        Header(request, CtGet, NlmRequest | NlmDump, 1);
        socket.Send(request);
        var flows = new List<(ConntrackFlow, byte[])>();
        var buffer = new byte[65536];
        while (true)
        {
            foreach (var (type, _, offset, length) in Messages(buffer, socket.Receive(buffer)))
            {
                if (type == NlmsgDone)
                {
                    return flows;
                }
                if (type == NlmsgError)
                {
                    var error = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(offset + 16));
                    throw new LinuxException("conntrack dump", null, -error);
                }
                if (type == CtNew && length > 20 && Parse(buffer.AsSpan(offset + 20, length - 20)) is { } flow)
                {
                    flows.Add(flow);
                }
            }
        }
    }

    /// <summary>The netlink messages of one datagram: type, sequence, offset and length of each.</summary>
    private static List<(ushort Type, uint Seq, int Offset, int Length)> Messages(byte[] buffer, int n)
    {
        var messages = new List<(ushort, uint, int, int)>();
        var offset = 0;
        while (offset + 16 <= n)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(offset));
            if (length < 16 || offset + length > n)
            {
                throw new IOException("conntrack: malformed netlink message");
            }
            messages.Add((BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(offset + 4)), BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(offset + 8)), offset, length));
            offset += Align(length);
        }
        return messages;
    }

    private static (ConntrackFlow, byte[])? Parse(ReadOnlySpan<byte> attributes)
    {
        Tuple? orig = null, reply = null;
        byte[]? origRaw = null;
        foreach (var (type, value, raw) in Attributes(attributes))
        {
            if (type == TupleOrig)
            {
                orig = ParseTuple(value);
                origRaw = raw.ToArray();
            }
            else if (type == TupleReply)
            {
                reply = ParseTuple(value);
            }
        }
        if (orig is null || reply is null || origRaw is null)
        {
            return null;
        }
        return (new ConntrackFlow(orig.Protocol, orig.Source, orig.SourcePort, orig.Destination, orig.DestinationPort, reply.Source, reply.SourcePort), origRaw);
    }

    private sealed record Tuple(byte Protocol, IPAddress Source, int SourcePort, IPAddress Destination, int DestinationPort);

    private static Tuple? ParseTuple(ReadOnlySpan<byte> tuple)
    {
        IPAddress? src = null, dst = null;
        byte proto = 0;
        int sport = 0, dport = 0;
        foreach (var (type, value, _) in Attributes(tuple))
        {
            if (type == TupleIp)
            {
                foreach (var (t, v, _) in Attributes(value))
                {
                    if (v.Length == 4 && t == IpV4Src)
                    {
                        src = new IPAddress(v);
                    }
                    else if (v.Length == 4 && t == IpV4Dst)
                    {
                        dst = new IPAddress(v);
                    }
                }
            }
            else if (type == TupleProto)
            {
                foreach (var (t, v, _) in Attributes(value))
                {
                    if (t == ProtoNum && v.Length >= 1)
                    {
                        proto = v[0];
                    }
                    else if (t == ProtoSrcPort && v.Length >= 2)
                    {
                        sport = BinaryPrimitives.ReadUInt16BigEndian(v);
                    }
                    else if (t == ProtoDstPort && v.Length >= 2)
                    {
                        dport = BinaryPrimitives.ReadUInt16BigEndian(v);
                    }
                }
            }
        }
        return src is null || dst is null ? null : new Tuple(proto, src, sport, dst, dport);
    }

    /// <summary>The attributes of a block: type (without the nested/byte-order flags), value, and the whole attribute.</summary>
    private static List<(ushort Type, byte[] Value, byte[] Raw)> Attributes(ReadOnlySpan<byte> block)
    {
        var list = new List<(ushort, byte[], byte[])>();
        var offset = 0;
        while (offset + 4 <= block.Length)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(block[offset..]);
            var type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(block[(offset + 2)..]) & 0x3FFF);
            if (length < 4 || offset + length > block.Length)
            {
                break;
            }
            list.Add((type, block.Slice(offset + 4, length - 4).ToArray(), block.Slice(offset, length).ToArray()));
            offset += Align(length);
        }
        return list;
    }

    private static int ReadAck(NetlinkSocket socket, uint seq)
    {
        var buffer = new byte[8192];
        while (true)
        {
            foreach (var (type, got, offset, _) in Messages(buffer, socket.Receive(buffer)))
            {
                if (type == NlmsgError && got == seq)
                {
                    return BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(offset + 16));
                }
            }
        }
    }

    private static int Align(int n) => (n + 3) & ~3;
}
