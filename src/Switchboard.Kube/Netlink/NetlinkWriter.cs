using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Switchboard.Kube.Netlink;

/// <summary>
/// Netlink messages written back to back into one pooled buffer that is reused from batch to batch: headers in host
/// order, attributes padded to 4 bytes, nests patched with their length when they end. Integer attributes are written
/// big-endian, as nf_tables and ctnetlink read them; rtnetlink reads host order (<see cref="U32Host"/>).
/// </summary>
public sealed class NetlinkWriter : IDisposable
{
    public const int HeaderSize = 16;
    private const ushort NestedFlag = 0x8000;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private int _length;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public int Length => _length;

    public void Clear() => _length = 0;

    /// <summary>Starts a message: nlmsghdr, then the 4-byte nfgenmsg (family, version 0, big-endian resource id).</summary>
    public int BeginMessage(ushort type, ushort flags, uint sequence, byte family, ushort resourceId)
    {
        int start = _length;
        Span<byte> header = Reserve(HeaderSize + 4);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);
        header[16] = family;
        header[17] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(header[18..], resourceId);
        return start;
    }

    /// <summary>Starts a message: nlmsghdr, then <paramref name="familyHeader"/> as it is (rtnetlink's ifinfomsg, ifaddrmsg, rtmsg).</summary>
    public int BeginMessage(ushort type, ushort flags, uint sequence, ReadOnlySpan<byte> familyHeader)
    {
        int start = _length;
        Span<byte> header = Reserve(HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);
        Raw(familyHeader);
        return start;
    }

    /// <summary>Bytes with no attribute header, padded to 4 (a family header inside a nest, as veth's peer carries one).</summary>
    public void Raw(ReadOnlySpan<byte> bytes)
    {
        Span<byte> raw = Reserve((bytes.Length + 3) & ~3);
        raw.Clear();
        bytes.CopyTo(raw);
    }

    public void EndMessage(int start) => BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(start), (uint)(_length - start));

    public int BeginNest(ushort type)
    {
        int start = _length;
        Span<byte> header = Reserve(4);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], (ushort)(type | NestedFlag));
        return start;
    }

    public void EndNest(int start) => BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(start), checked((ushort)(_length - start)));

    /// <summary>A NUL-terminated string attribute (names, types).</summary>
    public void String(ushort type, string value)
    {
        int length = Encoding.UTF8.GetByteCount(value) + 1;
        Span<byte> payload = Attribute(type, length);
        Encoding.UTF8.GetBytes(value, payload);
        payload[^1] = 0;
    }

    public void U8(ushort type, byte value) => Attribute(type, 1)[0] = value;

    public void U32(ushort type, uint value) => BinaryPrimitives.WriteUInt32BigEndian(Attribute(type, 4), value);

    public void U32Host(ushort type, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Attribute(type, 4), value);

    public void U64(ushort type, ulong value) => BinaryPrimitives.WriteUInt64BigEndian(Attribute(type, 8), value);

    public void Bytes(ushort type, ReadOnlySpan<byte> value) => value.CopyTo(Attribute(type, value.Length));

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _length = 0;
    }

    /// <summary>Writes an attribute header and returns its payload, zero padding included in the buffer but not in nla_len.</summary>
    private Span<byte> Attribute(ushort type, int payloadLength)
    {
        int padded = (4 + payloadLength + 3) & ~3;
        Span<byte> attribute = Reserve(padded);
        BinaryPrimitives.WriteUInt16LittleEndian(attribute, checked((ushort)(4 + payloadLength)));
        BinaryPrimitives.WriteUInt16LittleEndian(attribute[2..], type);
        attribute[(4 + payloadLength)..].Clear();
        return attribute.Slice(4, payloadLength);
    }

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + count));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        Span<byte> reserved = _buffer.AsSpan(_length, count);
        _length += count;
        return reserved;
    }
}
