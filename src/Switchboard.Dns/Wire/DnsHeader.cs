using System.Buffers.Binary;

namespace Switchboard.Dns.Wire;

/// <summary>The 12-byte message header of RFC 1035 section 4.1.1.</summary>
internal readonly record struct DnsHeader(
    ushort Id,
    ushort Flags,
    ushort QuestionCount,
    ushort AnswerCount,
    ushort AuthorityCount,
    ushort AdditionalCount)
{
    public const int Size = 12;

    public const ushort QrFlag = 0x8000;
    public const ushort AaFlag = 0x0400;
    public const ushort TcFlag = 0x0200;
    public const ushort RdFlag = 0x0100;
    public const ushort RaFlag = 0x0080;
    public const ushort CdFlag = 0x0010;

    public bool IsResponse => (Flags & QrFlag) != 0;

    public DnsOpCode OpCode => (DnsOpCode)((Flags >> 11) & 0xF);

    public bool IsTruncated => (Flags & TcFlag) != 0;

    public bool IsAuthoritative => (Flags & AaFlag) != 0;

    /// <summary>The low four bits of the response code; the rest live in the OPT record.</summary>
    public int ResponseCode => Flags & 0xF;

    public static bool TryRead(ReadOnlySpan<byte> message, out DnsHeader header)
    {
        if (message.Length < Size)
        {
            header = default;
            return false;
        }

        header = new DnsHeader(
            BinaryPrimitives.ReadUInt16BigEndian(message),
            BinaryPrimitives.ReadUInt16BigEndian(message[2..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[6..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[8..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[10..]));
        return true;
    }

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, Id);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], Flags);
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], QuestionCount);
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], AnswerCount);
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], AuthorityCount);
        BinaryPrimitives.WriteUInt16BigEndian(destination[10..], AdditionalCount);
    }

    /// <summary>Response flags for a query: QR set, opcode, RD and CD copied, RA clear (no recursion here).</summary>
    public static ushort ResponseFlags(ushort queryFlags, bool authoritative, bool truncated, DnsResponseCode code)
    {
        int flags = QrFlag | (queryFlags & (0x7800 | RdFlag | CdFlag)) | ((int)code & 0xF);
        if (authoritative)
        {
            flags |= AaFlag;
        }

        if (truncated)
        {
            flags |= TcFlag;
        }

        return (ushort)flags;
    }
}
