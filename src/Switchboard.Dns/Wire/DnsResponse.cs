using System.Buffers.Binary;

namespace Switchboard.Dns.Wire;

/// <summary>The allocation-free pieces a response is assembled from on the hot path.</summary>
internal static class DnsResponse
{
    /// <summary>Writes a header (counts filled in later by <see cref="PatchCounts"/>) and echoes the question.</summary>
    public static int WriteHeaderAndQuestion(Span<byte> destination, ushort id, ushort flags, ReadOnlySpan<byte> name, ushort type, ushort @class)
    {
        new DnsHeader(id, flags, 1, 0, 0, 0).Write(destination);
        name.CopyTo(destination[DnsHeader.Size..]);
        int position = DnsHeader.Size + name.Length;
        BinaryPrimitives.WriteUInt16BigEndian(destination[position..], type);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(position + 2)..], @class);
        return position + 4;
    }

    /// <summary>A header-only reply (FORMERR, NOTIMP, ...): no sections, as miekg/dns does for unparsable queries.</summary>
    public static int WriteHeaderOnly(Span<byte> destination, ushort id, ushort queryFlags, DnsResponseCode code)
    {
        new DnsHeader(id, DnsHeader.ResponseFlags(queryFlags, authoritative: false, truncated: false, code), 0, 0, 0, 0).Write(destination);
        return DnsHeader.Size;
    }

    public static void PatchFlags(Span<byte> message, ushort flags) => BinaryPrimitives.WriteUInt16BigEndian(message[2..], flags);

    public static void PatchCounts(Span<byte> message, int answers, int authority, int additional)
    {
        BinaryPrimitives.WriteUInt16BigEndian(message[6..], (ushort)answers);
        BinaryPrimitives.WriteUInt16BigEndian(message[8..], (ushort)authority);
        BinaryPrimitives.WriteUInt16BigEndian(message[10..], (ushort)additional);
    }

    /// <summary>Writes this server's OPT record: our UDP size, the upper rcode bits, version 0, DO echoed (RFC 3225).</summary>
    public static int WriteOpt(Span<byte> destination, ushort udpPayloadSize, DnsResponseCode code, bool dnssecOk)
    {
        destination[0] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)DnsRecordType.OPT);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], udpPayloadSize);
        uint ttl = ((uint)code >> 4) << 24;
        if (dnssecOk)
        {
            ttl |= DnsEdns.DoFlag;
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], ttl);
        BinaryPrimitives.WriteUInt16BigEndian(destination[9..], 0);
        return DnsEdns.OptRecordSize;
    }

    /// <summary>A compression pointer to an offset in the message.</summary>
    public static void WritePointer(Span<byte> destination, int offset) =>
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(0xC000 | offset));
}
