using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Switchboard.Dns.Wire;

/// <summary>
/// A parsed query: its header, its single question (the name is copied into a caller buffer, decompressed,
/// with its original case) and its EDNS0 OPT record. Parsing never allocates and never throws.
/// </summary>
internal readonly record struct DnsQuery(DnsHeader Header, int NameLength, ushort QuestionType, ushort QuestionClass, DnsEdns Edns)
{
    private const int FixedRecordSize = 10;

    /// <summary>Parses a message that must carry exactly one question; the caller checks QR, opcode and counts first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static DnsParseStatus TryParse(ReadOnlySpan<byte> message, Span<byte> nameBuffer, out DnsQuery query)
    {
        query = default;
        if (!DnsHeader.TryRead(message, out DnsHeader header))
        {
            return DnsParseStatus.TooShort;
        }

        if (header.QuestionCount != 1
            || !DnsName.TryRead(message, DnsHeader.Size, nameBuffer, out int nameLength, out int position)
            || position + 4 > message.Length)
        {
            return DnsParseStatus.Malformed;
        }

        ushort type = BinaryPrimitives.ReadUInt16BigEndian(message[position..]);
        ushort @class = BinaryPrimitives.ReadUInt16BigEndian(message[(position + 2)..]);
        position += 4;

        // Answer and authority records are not expected in a query; skip them so the OPT can still be found.
        int skipped = header.AnswerCount + header.AuthorityCount;
        for (int i = 0; i < skipped; i++)
        {
            if (!TrySkipRecord(message, ref position, out _, out _))
            {
                return DnsParseStatus.Malformed;
            }
        }

        var edns = default(DnsEdns);
        for (int i = 0; i < header.AdditionalCount; i++)
        {
            int start = position;
            if (!TrySkipRecord(message, ref position, out ushort recordType, out int recordHeader))
            {
                return DnsParseStatus.Malformed;
            }

            if (recordType != (ushort)DnsRecordType.OPT)
            {
                continue;
            }

            // At most one OPT, owned by the root name (RFC 6891 6.1.1).
            if (edns.Present || message[start] != 0)
            {
                return DnsParseStatus.Malformed;
            }

            ushort payload = BinaryPrimitives.ReadUInt16BigEndian(message[(recordHeader + 2)..]);
            uint ttl = BinaryPrimitives.ReadUInt32BigEndian(message[(recordHeader + 4)..]);
            edns = new DnsEdns(true, payload, (byte)(ttl >> 16), (ttl & DnsEdns.DoFlag) != 0);
        }

        query = new DnsQuery(header, nameLength, type, @class, edns);
        return DnsParseStatus.Ok;
    }

    /// <summary>Skips one resource record; <paramref name="recordHeader"/> is the offset of its TYPE field.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TrySkipRecord(ReadOnlySpan<byte> message, ref int position, out ushort type, out int recordHeader)
    {
        type = 0;
        recordHeader = 0;
        if (!DnsName.TrySkip(message, position, out int afterName) || afterName + FixedRecordSize > message.Length)
        {
            return false;
        }

        type = BinaryPrimitives.ReadUInt16BigEndian(message[afterName..]);
        int rdLength = BinaryPrimitives.ReadUInt16BigEndian(message[(afterName + 8)..]);
        int end = afterName + FixedRecordSize + rdLength;
        if (end > message.Length)
        {
            return false;
        }

        recordHeader = afterName;
        position = end;
        return true;
    }
}
