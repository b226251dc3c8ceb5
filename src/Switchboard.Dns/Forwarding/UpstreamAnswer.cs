using System.Buffers.Binary;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Forwarding;

/// <summary>
/// An upstream's response, walked once: where each record's TTL sits (so a cached copy can count them down)
/// and how long the whole answer may be cached — the smallest record TTL for a positive answer, and
/// min(SOA TTL, SOA MINIMUM) for NXDOMAIN or NODATA (RFC 2308 5). Zero means "do not cache".
/// </summary>
internal sealed class UpstreamAnswer
{
    private const int FixedRecordSize = 10;
    private const int SoaNumbersSize = 20;

    private UpstreamAnswer(byte[] message, int[] ttlOffsets, uint[] ttls, TimeSpan lifetime)
    {
        Message = message;
        TtlOffsets = ttlOffsets;
        Ttls = ttls;
        Lifetime = lifetime;
    }

    public byte[] Message { get; }

    /// <summary>Offsets of the TTL fields of every record except OPT (whose TTL field holds flags).</summary>
    public int[] TtlOffsets { get; }

    /// <summary>The TTLs as received, one per offset.</summary>
    public uint[] Ttls { get; }

    public TimeSpan Lifetime { get; }

    /// <summary>Null when the message is not a well-formed response with one question.</summary>
    public static UpstreamAnswer? TryRead(ReadOnlySpan<byte> message, TimeSpan maxTtl, TimeSpan maxNegativeTtl)
    {
        if (!DnsHeader.TryRead(message, out DnsHeader header) || !header.IsResponse || header.QuestionCount != 1
            || !DnsName.TrySkip(message, DnsHeader.Size, out int position) || position + 4 > message.Length)
        {
            return null;
        }

        position += 4;
        var offsets = new List<int>();
        var ttls = new List<uint>();
        uint smallest = uint.MaxValue;
        uint? negative = null;
        int records = header.AnswerCount + header.AuthorityCount + header.AdditionalCount;
        for (int i = 0; i < records; i++)
        {
            if (!DnsName.TrySkip(message, position, out int afterName) || afterName + FixedRecordSize > message.Length)
            {
                return null;
            }

            ushort type = BinaryPrimitives.ReadUInt16BigEndian(message[afterName..]);
            // RFC 2181 8: a TTL with the top bit set is treated as zero.
            uint ttl = BinaryPrimitives.ReadUInt32BigEndian(message[(afterName + 4)..]);
            ttl = ttl > int.MaxValue ? 0 : ttl;
            int rdLength = BinaryPrimitives.ReadUInt16BigEndian(message[(afterName + 8)..]);
            int end = afterName + FixedRecordSize + rdLength;
            if (end > message.Length)
            {
                return null;
            }

            if (type != (ushort)DnsRecordType.OPT)
            {
                offsets.Add(afterName + 4);
                ttls.Add(ttl);
                smallest = Math.Min(smallest, ttl);
                bool inAuthority = i >= header.AnswerCount && i < header.AnswerCount + header.AuthorityCount;
                if (inAuthority && type == (ushort)DnsRecordType.SOA && rdLength >= SoaNumbersSize + 2)
                {
                    negative = Math.Min(ttl, BinaryPrimitives.ReadUInt32BigEndian(message[(end - 4)..]));
                }
            }

            position = end;
        }

        var code = (DnsResponseCode)header.ResponseCode;
        bool isNegative = code == DnsResponseCode.NXDomain || (code == DnsResponseCode.NoError && header.AnswerCount == 0);
        TimeSpan lifetime = TimeSpan.Zero;
        if (header.IsTruncated)
        {
            lifetime = TimeSpan.Zero;
        }
        else if (isNegative && negative is { } negativeTtl)
        {
            lifetime = Min(TimeSpan.FromSeconds(negativeTtl), maxNegativeTtl);
        }
        else if (code == DnsResponseCode.NoError && !isNegative)
        {
            lifetime = Min(TimeSpan.FromSeconds(smallest), maxTtl);
        }

        return new UpstreamAnswer(message.ToArray(), [.. offsets], [.. ttls], lifetime);
    }

    /// <summary>
    /// Writes this answer for a client: the client's ID, question case and RD bit, TTLs lowered by
    /// <paramref name="age"/>. Returns 0 when it does not fit in <paramref name="destination"/>.
    /// </summary>
    public int WriteTo(Span<byte> destination, ReadOnlySpan<byte> query, int questionNameLength, TimeSpan age)
    {
        if (Message.Length > destination.Length)
        {
            return 0;
        }

        Message.CopyTo(destination);
        query[..2].CopyTo(destination);
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(destination[2..]);
        ushort queryFlags = BinaryPrimitives.ReadUInt16BigEndian(query[2..]);
        flags = (ushort)((flags & ~DnsHeader.RdFlag) | (queryFlags & DnsHeader.RdFlag));
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], flags);
        query.Slice(DnsHeader.Size, questionNameLength).CopyTo(destination[DnsHeader.Size..]);
        uint elapsed = (uint)Math.Min(age.TotalSeconds, uint.MaxValue);
        for (int i = 0; i < TtlOffsets.Length; i++)
        {
            uint ttl = Ttls[i] > elapsed ? Ttls[i] - elapsed : 0;
            BinaryPrimitives.WriteUInt32BigEndian(destination[TtlOffsets[i]..], ttl);
        }

        return Message.Length;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
