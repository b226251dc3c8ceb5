using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Zones;

/// <summary>
/// Collects names and records, then encodes every (name, type) once into a <see cref="ClusterZoneSnapshot"/>.
/// Names below the apex get their ancestors as empty non-terminals, so those answer NODATA (RFC 8020).
/// </summary>
internal sealed class ZoneBuilder
{
    private const int MaxMessageSize = ushort.MaxValue;

    private readonly string _domain;
    private readonly byte[] _apex;
    private readonly Dictionary<string, Draft> _drafts = new(StringComparer.Ordinal);

    /// <remarks><c>domain</c>: The apex in lower case without the trailing dot.</remarks>
    public ZoneBuilder(string domain)
    {
        _domain = domain;
        _apex = DnsName.Parse(domain);
        AddName(domain);
    }

    public string Domain => _domain;

    public static byte[] Prefix(string labels, ReadOnlySpan<byte> apex) => DnsName.Parse(labels + "." + DnsName.ToText(apex));

    public void AddName(string name) => GetDraft(name);

    public void Add(string name, ZoneRecord record)
    {
        Draft draft = GetDraft(name);
        if (draft.Seen.Add(record))
        {
            draft.Records.Add(record);
        }
    }

    public void MarkPodNamespace(string name) => GetDraft(name).PodNamespace = true;

    public ClusterZoneSnapshot Build(PodRecordMode pods, uint ttl, uint serial, bool synced)
    {
        byte[] scratch = new byte[MaxMessageSize];
        ushort[] compression = new ushort[4096];
        var nodes = new Dictionary<byte[], ZoneNode>(_drafts.Count, WireNameComparer.Instance);
        foreach ((string name, Draft draft) in _drafts)
        {
            if (!DnsName.TryParse(name, out byte[] wire))
            {
                continue;
            }

            DnsRecordType[] types = [.. draft.Records.Select(r => r.Type).Distinct()];
            var encoded = new PrecomputedRecords[types.Length];
            for (int i = 0; i < types.Length; i++)
            {
                DnsRecordType type = types[i];
                encoded[i] = Encode(wire, type, [.. draft.Records.Where(r => r.Type == type)], serial, scratch, compression);
            }

            nodes[wire] = new ZoneNode(types, encoded, draft.PodNamespace);
        }

        return new ClusterZoneSnapshot(nodes, _apex, EncodeNegativeSoa(serial, ttl), pods, ttl, synced);
    }

    /// <summary>The SOA of negative answers without its owner (written per query as a pointer), names uncompressed.</summary>
    private byte[] EncodeNegativeSoa(uint serial, uint ttl)
    {
        var writer = new DnsMessageWriter(new byte[2 * DnsName.MaxLength + 32], []);
        TryWriteRecord(ref writer, DnsName.Root, new ZoneRecord(DnsRecordType.SOA, ttl), 0, serial);
        return writer.Written[DnsName.Root.Length..].ToArray();
    }

    private Draft GetDraft(string name)
    {
        if (_drafts.TryGetValue(name, out Draft? draft))
        {
            return draft;
        }

        draft = new Draft();
        _drafts[name] = draft;
        if (name.EndsWith("." + _domain, StringComparison.Ordinal))
        {
            GetDraft(name[(name.IndexOf('.', StringComparison.Ordinal) + 1)..]);
        }

        return draft;
    }

    /// <summary>Encodes one RRset behind a question for <paramref name="owner"/>, plus address glue for SRV and NS targets.</summary>
    private PrecomputedRecords Encode(byte[] owner, DnsRecordType type, ZoneRecord[] records, uint serial, byte[] scratch, ushort[] compression)
    {
        var writer = new DnsMessageWriter(scratch, compression);
        writer.TryWriteBytes(new byte[DnsHeader.Size]);
        writer.TryWriteQuestion(owner, (ushort)type, (ushort)DnsClass.IN);
        int start = writer.Position;
        var ends = new List<int>(records.Length);

        // CoreDNS: priority 0, weight 100 / number of SRV records, at least 1.
        ushort weight = (ushort)Math.Max(1, 100 / records.Length);
        foreach (ZoneRecord record in records)
        {
            if (!TryWriteRecord(ref writer, owner, record, weight, serial))
            {
                break;
            }

            ends.Add(writer.Position - start);
        }

        int answers = ends.Count;
        if (type is DnsRecordType.SRV or DnsRecordType.NS)
        {
            WriteGlue(ref writer, records, start, ends, serial);
        }

        return new PrecomputedRecords(scratch[start..writer.Position], [.. ends], answers, authorityCount: 0);
    }

    private void WriteGlue(ref DnsMessageWriter writer, ZoneRecord[] records, int start, List<int> ends, uint serial)
    {
        foreach (string target in records.Select(r => r.Target!).Distinct(StringComparer.Ordinal))
        {
            if (!_drafts.TryGetValue(target, out Draft? draft) || !DnsName.TryParse(target, out byte[] targetWire))
            {
                continue;
            }

            foreach (ZoneRecord glue in draft.Records.Where(r => r.Type is DnsRecordType.A or DnsRecordType.AAAA))
            {
                if (!TryWriteRecord(ref writer, targetWire, glue, 0, serial))
                {
                    return;
                }

                ends.Add(writer.Position - start);
            }
        }
    }

    private bool TryWriteRecord(ref DnsMessageWriter writer, ReadOnlySpan<byte> owner, ZoneRecord record, ushort weight, uint serial)
    {
        int start = writer.Position;
        if (!writer.TryBeginRecord(owner, (ushort)record.Type, (ushort)DnsClass.IN, record.Ttl, out int rdLength))
        {
            return false;
        }

        bool written = record.Type switch
        {
            DnsRecordType.A or DnsRecordType.AAAA => writer.TryWriteBytes(record.Address!.GetAddressBytes()),
            DnsRecordType.CNAME or DnsRecordType.PTR or DnsRecordType.NS => writer.TryWriteName(DnsName.Parse(record.Target!)),
            DnsRecordType.SRV => writer.TryWriteUInt16(0)
                && writer.TryWriteUInt16(weight)
                && writer.TryWriteUInt16(record.Port)
                && writer.TryWriteName(DnsName.Parse(record.Target!), compress: false),
            DnsRecordType.TXT => writer.TryWriteBytes(CharacterString(record.Text!)),
            DnsRecordType.SOA => TryWriteSoa(ref writer, serial, record.Ttl),
            _ => false,
        };
        if (!written)
        {
            writer.Rewind(start);
            return false;
        }

        writer.EndRecord(rdLength);
        return true;
    }

    private bool TryWriteSoa(ref DnsMessageWriter writer, uint serial, uint minimum) =>
        writer.TryWriteName(Prefix("ns.dns", _apex))
        && writer.TryWriteName(Prefix("hostmaster", _apex))
        && writer.TryWriteUInt32(serial)
        && writer.TryWriteUInt32(7200)
        && writer.TryWriteUInt32(1800)
        && writer.TryWriteUInt32(86400)
        && writer.TryWriteUInt32(minimum);

    /// <summary>A TXT character-string: one length byte, then at most 255 bytes of text.</summary>
    private static byte[] CharacterString(string text)
    {
        byte[] bytes = System.Text.Encoding.ASCII.GetBytes(text);
        return [(byte)Math.Min(bytes.Length, 255), .. bytes.AsSpan(0, Math.Min(bytes.Length, 255))];
    }

    private sealed class Draft
    {
        public List<ZoneRecord> Records { get; } = [];

        public HashSet<ZoneRecord> Seen { get; } = [];

        public bool PodNamespace { get; set; }
    }
}
