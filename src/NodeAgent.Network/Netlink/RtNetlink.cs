using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using NodeAgent.Linux;

namespace NodeAgent.Network.Netlink;

/// <summary>
/// The rtnetlink requests the pod network needs (links, addresses, routes), on one socket bound to one network
/// namespace. Each request waits for the kernel's acknowledgement, so errors surface at the call that caused them.
/// Not thread-safe: one caller at a time.
/// </summary>
public sealed class RtNetlink : IDisposable
{
    private const ushort RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18, RTM_SETLINK = 19, RTM_NEWADDR = 20, RTM_NEWROUTE = 24;
    private const ushort NLMSG_ERROR = 2, NLMSG_DONE = 3;
    private const ushort IFLA_ADDRESS = 1, IFLA_IFNAME = 3, IFLA_MTU = 4, IFLA_MASTER = 10, IFLA_PROTINFO = 12, IFLA_LINKINFO = 18, IFLA_NET_NS_FD = 28;
    private const ushort IFLA_INFO_KIND = 1, IFLA_INFO_DATA = 2, VETH_INFO_PEER = 1, IFLA_BRPORT_MODE = 4;
    private const ushort IFA_ADDRESS = 1, IFA_LOCAL = 2, RTA_GATEWAY = 5, RTA_OIF = 4;
    private const byte AF_INET = 2, AF_BRIDGE = 7, AF_UNSPEC = 0;
    private const uint IFF_UP = 1;

    private readonly NetlinkSocket _socket;
    private readonly byte[] _receive = new byte[16 * 1024];
    private uint _sequence;

    private RtNetlink(NetlinkSocket socket) => _socket = socket;

    /// <summary>Opens rtnetlink in the caller's namespace.</summary>
    public static RtNetlink Open() => new(NetlinkSocket.Open());

    /// <summary>
    /// Runs <paramref name="work"/> with rtnetlink on a thread inside the namespace at <paramref name="netnsPath"/>.
    /// The thread must stay inside while the requests run: the kernel refuses link changes (ENOTCONN) in a
    /// namespace that no task is in, which is the state of a sandbox's namespace before its containers start.
    /// </summary>
    public static T Run<T>(string netnsPath, Func<RtNetlink, T> work) =>
        NetworkNamespace.Run(netnsPath, () =>
        {
            using var netlink = Open();
            return work(netlink);
        });

    /// <summary>Creates a bridge; false when a link of that name exists already.</summary>
    public bool CreateBridge(string name, int mtu)
    {
        var m = New(RTM_NEWLINK, NetlinkMessage.NLM_F_CREATE | NetlinkMessage.NLM_F_EXCL);
        IfInfo(m, 0, IFF_UP);
        m.Attr(IFLA_IFNAME, name).Attr(IFLA_MTU, (uint)mtu);
        var info = m.BeginNest(IFLA_LINKINFO);
        m.Attr(IFLA_INFO_KIND, "bridge");
        m.EndNest(info);
        return Execute(m, "create bridge", name, NetlinkException.EEXIST);
    }

    /// <summary>
    /// Creates a veth pair in one request: <paramref name="hostName"/> here, enslaved to <paramref name="masterIndex"/>
    /// and up; its peer named <paramref name="peerName"/> directly inside the namespace open as <paramref name="peerNetns"/>
    /// (still down: set it up from inside that namespace).
    /// </summary>
    public void CreateVeth(string hostName, int? masterIndex, string peerName, SafeHandle peerNetns, int mtu)
    {
        var m = New(RTM_NEWLINK, NetlinkMessage.NLM_F_CREATE | NetlinkMessage.NLM_F_EXCL);
        IfInfo(m, 0, IFF_UP);
        m.Attr(IFLA_IFNAME, hostName).Attr(IFLA_MTU, (uint)mtu);
        if (masterIndex is { } master)
        {
            m.Attr(IFLA_MASTER, (uint)master);
        }

        var info = m.BeginNest(IFLA_LINKINFO);
        m.Attr(IFLA_INFO_KIND, "veth");
        var data = m.BeginNest(IFLA_INFO_DATA);
        var peer = m.BeginNest(VETH_INFO_PEER);
        IfInfo(m, 0, 0); // up later: the kernel configures the peer before pairing it, so IFF_UP here fails (ENOTCONN)
        m.Attr(IFLA_IFNAME, peerName).Attr(IFLA_MTU, (uint)mtu).Attr(IFLA_NET_NS_FD, (uint)peerNetns.DangerousGetHandle());
        m.EndNest(peer);
        m.EndNest(data);
        m.EndNest(info);
        Execute(m, "create veth", $"{hostName} (peer {peerName})");
    }

    /// <summary>The index of the link called <paramref name="name"/>, or null when there is none.</summary>
    public int? LinkIndex(string name)
    {
        var m = New(RTM_GETLINK, 0);
        IfInfo(m, 0, 0);
        m.Attr(IFLA_IFNAME, name);
        // The kernel answers with the link, then (NLM_F_ACK) the ack; both are read so nothing is left for the next request.
        int? index = null;
        var found = Execute(m, "get link", name, NetlinkException.ENODEV,
            (type, msg) => index = type == RTM_NEWLINK ? BinaryPrimitives.ReadInt32LittleEndian(msg[(16 + 4)..]) : index);
        return found ? index : null;
    }

    /// <summary>Sets a link up.</summary>
    public void SetUp(int index, string name)
    {
        var m = New(RTM_NEWLINK, 0);
        IfInfo(m, index, IFF_UP);

        Execute(m, "set link up", name);
    }

    /// <summary>Hairpin mode on a bridge port, so a pod can reach itself through its own hostPort.</summary>
    public void SetHairpin(int index, string name)
    {
        var m = New(RTM_SETLINK, 0);
        IfInfo(m, index, 0, AF_BRIDGE);
        var nest = m.BeginNest(IFLA_PROTINFO);
        m.AttrByte(IFLA_BRPORT_MODE, 1);
        m.EndNest(nest);
        Execute(m, "set hairpin", name);
    }

    /// <summary>Deletes a link by name; false when there was none.</summary>
    public bool DeleteLink(string name)
    {
        var m = New(RTM_DELLINK, 0);
        IfInfo(m, 0, 0);
        m.Attr(IFLA_IFNAME, name);
        return Execute(m, "delete link", name, NetlinkException.ENODEV);
    }

    /// <summary>Adds an IPv4 address; false when it was there already.</summary>
    public bool AddAddress(int index, string name, IPAddress address, int prefixLength)
    {
        var m = New(RTM_NEWADDR, NetlinkMessage.NLM_F_CREATE | NetlinkMessage.NLM_F_EXCL);
        var h = m.Reserve(8);
        h[0] = AF_INET;
        h[1] = (byte)prefixLength;
        BinaryPrimitives.WriteInt32LittleEndian(h[4..], index);
        var bytes = Ipv4(address);
        m.Attr(IFA_LOCAL, bytes).Attr(IFA_ADDRESS, bytes);
        return Execute(m, "add address", $"{address}/{prefixLength} to {name}", NetlinkException.EEXIST);
    }

    /// <summary>Adds the default route via <paramref name="gateway"/> out of link <paramref name="index"/>.</summary>
    public void AddDefaultRoute(int index, string name, IPAddress gateway)
    {
        var m = New(RTM_NEWROUTE, NetlinkMessage.NLM_F_CREATE | NetlinkMessage.NLM_F_EXCL);
        var h = m.Reserve(12);
        h[0] = AF_INET;
        h[4] = 254; // RT_TABLE_MAIN
        h[5] = 3; // RTPROT_BOOT
        h[6] = 0; // RT_SCOPE_UNIVERSE
        h[7] = 1; // RTN_UNICAST
        m.Attr(RTA_GATEWAY, Ipv4(gateway)).Attr(RTA_OIF, (uint)index);
        Execute(m, "add default route", $"via {gateway} dev {name}");
    }

    public void Dispose() => _socket.Dispose();

    private NetlinkMessage New(ushort type, ushort flags) =>
        new(type, (ushort)(flags | NetlinkMessage.NLM_F_REQUEST | NetlinkMessage.NLM_F_ACK), ++_sequence);

    private static void IfInfo(NetlinkMessage m, int index, uint flags, byte family = AF_UNSPEC)
    {
        var h = m.Reserve(16);
        h[0] = family;
        BinaryPrimitives.WriteInt32LittleEndian(h[4..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], flags);
    }

    private static byte[] Ipv4(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork
            ? address.GetAddressBytes()
            : throw new ArgumentException($"{address} is not an IPv4 address", nameof(address));

    /// <summary>Answers to the current request other than its ack, by message type.</summary>
    private delegate void ReplyHandler(ushort type, ReadOnlySpan<byte> message);

    /// <summary>Sends and waits for the ack, skipping stale messages of earlier requests; false when the kernel
    /// answered with <paramref name="tolerated"/>. Other replies to this request go to <paramref name="onReply"/>.</summary>
    private bool Execute(NetlinkMessage m, string operation, string target, int tolerated = 0, ReplyHandler? onReply = null)
    {
        _socket.Send(m.Complete());
        while (true)
        {
            var n = _socket.Receive(_receive);
            var offset = 0;
            while (offset + 16 <= n)
            {
                var msg = _receive.AsSpan(offset, n - offset);
                var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(msg);
                var type = BinaryPrimitives.ReadUInt16LittleEndian(msg[4..]);
                var seq = BinaryPrimitives.ReadUInt32LittleEndian(msg[8..]);
                if (type == NLMSG_ERROR && seq == _sequence)
                {
                    var errno = -BinaryPrimitives.ReadInt32LittleEndian(msg[16..]);
                    if (errno == 0)
                    {
                        return true;
                    }

                    if (errno == tolerated)
                    {
                        return false;
                    }

                    throw new NetlinkException(operation, target, errno);
                }

                if (seq == _sequence && type != NLMSG_ERROR)
                {
                    onReply?.Invoke(type, msg);
                }

                if (type == NLMSG_DONE || length < 16)
                {
                    break;
                }

                offset += NetlinkMessage.Align(length);
            }
        }
    }
}
