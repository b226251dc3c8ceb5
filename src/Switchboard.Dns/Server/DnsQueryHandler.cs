using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Switchboard.Dns.SkyDns;
using Switchboard.Dns.Trace;
using Switchboard.Dns.Wire;
using Switchboard.Dns.Zones;

namespace Switchboard.Dns.Server;

/// <summary>
/// Turns one query message into one response message, transport-agnostic and allocation-free:
/// parse, look up in the current snapshot, copy pre-encoded records, truncate to what the client can take.
/// Hostile input ends in a drop (nothing to answer to, or a response: no reflection) or a short error reply.
/// </summary>
internal sealed class DnsQueryHandler
{
    /// <summary>Returned by <see cref="Handle(ReadOnlySpan{byte}, Span{byte}, bool)"/> for a name outside the cluster zones when a forwarder takes those.</summary>
    public const int Forward = -1;

    private const int PodRecordFixedSize = 12;

    private readonly ClusterDnsIndex _index;
    private readonly DnsPayloadLimit _limit;
    private readonly bool _forwards;
    private readonly SkyDnsZone? _skyDns;

    public DnsQueryHandler(ClusterDnsIndex index, int maxUdpPayloadSize, bool forwards = false, SkyDnsZone? skyDns = null)
    {
        _index = index;
        _limit = new DnsPayloadLimit(maxUdpPayloadSize);
        _forwards = forwards;
        _skyDns = skyDns;
    }

    /// <summary>
    /// Writes the response to <paramref name="query"/> and returns its length; 0 means send nothing,
    /// <see cref="Forward"/> that the forwarder answers it.
    /// </summary>
    public int Handle(ReadOnlySpan<byte> query, Span<byte> response, bool overTcp) => Handle(query, response, overTcp, out _);

    /// <summary>As <see cref="Handle(ReadOnlySpan{byte}, Span{byte}, bool)"/>, saying which zone answered (for a trace).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Handle(ReadOnlySpan<byte> query, Span<byte> response, bool overTcp, out DnsAnswerSource source)
    {
        source = DnsAnswerSource.None;
        if (!DnsHeader.TryRead(query, out DnsHeader header) || header.IsResponse || response.Length < DnsPayloadLimit.ClassicUdpPayloadSize)
        {
            return 0;
        }

        if (header.OpCode != DnsOpCode.Query)
        {
            return DnsResponse.WriteHeaderOnly(response, header.Id, header.Flags, DnsResponseCode.NotImp);
        }

        Span<byte> name = stackalloc byte[DnsName.MaxLength];
        if (DnsQuery.TryParse(query, name, out DnsQuery parsed) != DnsParseStatus.Ok)
        {
            return DnsResponse.WriteHeaderOnly(response, header.Id, header.Flags, DnsResponseCode.FormErr);
        }

        name = name[..parsed.NameLength];
        DnsEdns edns = parsed.Edns;
        Span<byte> message = response[..Math.Min(_limit.For(edns, overTcp), response.Length)];

        if (edns.Present && edns.Version != 0)
        {
            return Finish(message, parsed, name, DnsResponseCode.BadVers, default);
        }

        ushort type = parsed.QuestionType;
        if (type == (ushort)DnsRecordType.OPT)
        {
            return DnsResponse.WriteHeaderOnly(response, header.Id, header.Flags, DnsResponseCode.FormErr);
        }

        // Only class IN is served (CoreDNS refuses others); zone transfers are not offered.
        if (parsed.QuestionClass != (ushort)DnsClass.IN || type is (ushort)DnsRecordType.AXFR or (ushort)DnsRecordType.IXFR)
        {
            return Finish(message, parsed, name, DnsResponseCode.Refused, default);
        }

        Span<byte> lower = stackalloc byte[name.Length];
        DnsName.ToLowerAscii(name, lower);
        ClusterZoneSnapshot snapshot = _index.Snapshot;
        ZoneLookupResult result = snapshot.Lookup(lower, type);
        source = DnsAnswerSource.Cluster;
        if (result.Kind == ZoneAnswerKind.NotAuthoritative && _skyDns is not null)
        {
            result = _skyDns.Lookup(lower, type);
            source = DnsAnswerSource.SkyDns;
        }

        if (_forwards && result.Kind == ZoneAnswerKind.NotAuthoritative)
        {
            return Forward;
        }

        if (result.Kind == ZoneAnswerKind.NotAuthoritative)
        {
            source = DnsAnswerSource.None;
        }

        DnsResponseCode code = result.Kind switch
        {
            ZoneAnswerKind.NXDomain => DnsResponseCode.NXDomain,
            ZoneAnswerKind.NotReady => DnsResponseCode.ServFail,
            ZoneAnswerKind.NotAuthoritative => DnsResponseCode.Refused,
            _ => DnsResponseCode.NoError,
        };
        return Finish(message, parsed, name, code, new Body(snapshot, result));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Finish(Span<byte> message, in DnsQuery query, ReadOnlySpan<byte> name, DnsResponseCode code, Body body)
    {
        DnsEdns edns = query.Edns;
        int position = DnsResponse.WriteHeaderAndQuestion(message, query.Header.Id, 0, name, query.QuestionType, query.QuestionClass);
        int available = message.Length - position - (edns.Present ? DnsEdns.OptRecordSize : 0);
        var counts = default(SectionCounts);
        bool authoritative = false;
        if (body.Snapshot is not null)
        {
            authoritative = body.Result.Kind is ZoneAnswerKind.Records or ZoneAnswerKind.PodAddress or ZoneAnswerKind.NoData or ZoneAnswerKind.NXDomain;
            counts = body.Write(message.Slice(position, available), out int written);
            position += written;
        }

        if (edns.Present)
        {
            position += DnsResponse.WriteOpt(message[position..], _limit.Advertised, code, edns.DnssecOk);
            counts.Additional++;
        }

        DnsResponse.PatchFlags(message, DnsHeader.ResponseFlags(query.Header.Flags, authoritative, counts.Truncated, code));
        DnsResponse.PatchCounts(message, counts.Answers, counts.Authority, counts.Additional);
        return position;
    }

    private struct SectionCounts
    {
        public int Answers;
        public int Authority;
        public int Additional;
        public bool Truncated;
    }

    /// <summary>The sections after the question, for one lookup result.</summary>
    private readonly record struct Body(ClusterZoneSnapshot? Snapshot, ZoneLookupResult Result)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public SectionCounts Write(Span<byte> destination, out int written)
        {
            written = 0;
            var counts = default(SectionCounts);
            switch (Result.Kind)
            {
                case ZoneAnswerKind.Records:
                    PrecomputedRecords records = Result.Records!;
                    int fitting = records.CountFitting(destination.Length);
                    written = records.LengthOf(fitting);
                    records.Bytes[..written].CopyTo(destination);
                    counts.Answers = Math.Min(fitting, records.AnswerCount);
                    counts.Authority = Math.Clamp(fitting - records.AnswerCount, 0, records.AuthorityCount);
                    counts.Additional = fitting - counts.Answers - counts.Authority;
                    counts.Truncated = fitting < records.AnswerCount + records.AuthorityCount;
                    break;
                case ZoneAnswerKind.PodAddress:
                    counts.Truncated = !TryWritePodAddress(destination, out written);
                    counts.Answers = written > 0 ? 1 : 0;
                    break;
                case ZoneAnswerKind.NoData or ZoneAnswerKind.NXDomain:
                    // RFC 2308: the zone's SOA in authority, its owner pointing into the question name.
                    ReadOnlySpan<byte> soa = Result.NegativeSoa ?? Snapshot!.NegativeSoaWithoutOwner;
                    if (2 + soa.Length > destination.Length)
                    {
                        counts.Truncated = true;
                        break;
                    }

                    DnsResponse.WritePointer(destination, DnsHeader.Size + Result.ZoneOffset);
                    soa.CopyTo(destination[2..]);
                    written = 2 + soa.Length;
                    counts.Authority = 1;
                    break;
            }

            return counts;
        }

        private bool TryWritePodAddress(Span<byte> destination, out int written)
        {
            int addressLength = Result.PodAddressType == DnsRecordType.A ? 4 : 16;
            written = 0;
            if (PodRecordFixedSize + addressLength > destination.Length)
            {
                return false;
            }

            DnsResponse.WritePointer(destination, DnsHeader.Size);
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)Result.PodAddressType);
            BinaryPrimitives.WriteUInt16BigEndian(destination[4..], (ushort)DnsClass.IN);
            BinaryPrimitives.WriteUInt32BigEndian(destination[6..], Snapshot!.Ttl);
            BinaryPrimitives.WriteUInt16BigEndian(destination[10..], (ushort)addressLength);
            if (addressLength == 4)
            {
                BinaryPrimitives.WriteUInt32BigEndian(destination[12..], (uint)Result.PodAddress);
            }
            else
            {
                BinaryPrimitives.WriteUInt128BigEndian(destination[12..], Result.PodAddress);
            }

            written = PodRecordFixedSize + addressLength;
            return true;
        }
    }
}
