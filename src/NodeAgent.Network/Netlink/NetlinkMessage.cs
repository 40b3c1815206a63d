using System.Buffers.Binary;
using System.Text;

namespace NodeAgent.Network.Netlink;

/// <summary>
/// Builds one netlink request: the 16-byte nlmsghdr, a fixed family header, then attributes (rtattr), nested where
/// needed. Lengths are patched when a message or a nest is closed; everything is 4-byte aligned as the kernel wants.
/// </summary>
public sealed class NetlinkMessage
{
    public const ushort NLM_F_REQUEST = 0x1, NLM_F_ACK = 0x4, NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400;
    private const ushort NLA_F_NESTED = 0x8000;

    private byte[] _buffer = new byte[256];
    private int _length;

    public NetlinkMessage(ushort type, ushort flags, uint sequence)
    {
        _length = 16;
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(6), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(8), sequence);
    }

    /// <summary>Appends raw bytes (a family header such as ifinfomsg), padded to 4 bytes.</summary>
    public Span<byte> Reserve(int size)
    {
        var aligned = Align(size);
        Grow(aligned);
        var span = _buffer.AsSpan(_length, size);
        _buffer.AsSpan(_length, aligned).Clear();
        _length += aligned;
        return span;
    }

    public NetlinkMessage Attr(ushort type, ReadOnlySpan<byte> value)
    {
        var header = Reserve(4);
        BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], type);
        value.CopyTo(Reserve(value.Length));
        return this;
    }

    public NetlinkMessage Attr(ushort type, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return Attr(type, b);
    }

    public NetlinkMessage AttrByte(ushort type, byte value) => Attr(type, [value]);

    /// <summary>A NUL-terminated string attribute.</summary>
    public NetlinkMessage Attr(ushort type, string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return Attr(type, bytes);
    }

    /// <summary>Opens a nested attribute; returns its offset for <see cref="EndNest"/>.</summary>
    public int BeginNest(ushort type)
    {
        var offset = _length;
        var header = Reserve(4);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], (ushort)(type | NLA_F_NESTED));
        return offset;
    }

    public void EndNest(int offset) =>
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(offset), (ushort)(_length - offset));

    public ReadOnlySpan<byte> Complete()
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)_length);
        return _buffer.AsSpan(0, _length);
    }

    public static int Align(int n) => (n + 3) & ~3;

    private void Grow(int more)
    {
        if (_length + more > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + more));
        }
    }
}
