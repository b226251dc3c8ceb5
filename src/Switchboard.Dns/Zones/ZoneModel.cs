using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Zones;

/// <summary>
/// The zone's names and records, reference-counted per contribution so objects can come and go, plus the
/// encoder that turns a name into a <see cref="ZoneNode"/>. Publishing copies the previous snapshot's table
/// and re-encodes only the names touched since, so one watch event costs in proportion to what it changed.
/// Names below the apex keep their ancestors alive as empty non-terminals, which answer NODATA (RFC 8020).
/// </summary>
internal sealed class ZoneModel
{

    private readonly string _domain;
    private readonly byte[] _apex;
    private readonly Dictionary<string, Entry> _entries;
    private readonly Dictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _entriesBySpan;
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);

    /// <summary>CNAME target → owners aliasing it (with counts): an owner's answer carries the target's addresses, so it changes with them.</summary>
    private readonly Dictionary<string, Dictionary<string, int>> _aliasesOf = new(StringComparer.Ordinal);
    private readonly byte[] _scratch = new byte[DnsPayloadLimit.MaxMessageSize];
    private readonly ushort[] _compression = new ushort[4096];

    /// <remarks><c>domain</c>: The apex in lower case without the trailing dot.</remarks>
    public ZoneModel(string domain)
    {
        _domain = domain;
        _apex = DnsName.Parse(domain);
        _entries = new(StringComparer.Ordinal);
        _entriesBySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>
    /// The model's own instance of a name it already holds, else <paramref name="name"/>: every service of a namespace
    /// then keeps one <c>&lt;ns&gt;.svc</c> and one <c>&lt;ns&gt;.pod</c> string, not two copies each (1.4 MB for 10,000).
    /// </summary>
    public string Shared(string name) => _entriesBySpan.TryGetValue(name, out string? held, out _) ? held : name;

    public void Add(IEnumerable<ZoneContribution> contributions)
    {
        foreach (ZoneContribution contribution in contributions)
        {
            Entry entry = Reference(contribution.Name, +1);
            if (contribution.PodNamespace)
            {
                entry.PodNamespaceReferences++;
            }

            if (contribution.Record is { } record)
            {
                entry.AddRecord(record);
                TrackAlias(contribution.Name, record, +1);
            }
        }
    }

    public void Remove(IEnumerable<ZoneContribution> contributions)
    {
        foreach (ZoneContribution contribution in contributions)
        {
            Entry entry = _entries[contribution.Name];
            if (contribution.PodNamespace)
            {
                entry.PodNamespaceReferences--;
            }

            if (contribution.Record is { } record)
            {
                entry.RemoveRecord(record);
                TrackAlias(contribution.Name, record, -1);
            }

            Reference(contribution.Name, -1);
        }
    }

    /// <summary>
    /// A snapshot of the model: the previous one's table with the touched names re-encoded, or a table
    /// built from scratch when there is no previous one.
    /// </summary>
    public ClusterZoneSnapshot Publish(ClusterZoneSnapshot? previous, PodRecordMode pods, uint ttl, uint serial, bool synced)
    {
        // The apex SOA carries the serial, which changes with every publication.
        _dirty.Add(_domain);
        if (previous is null)
        {
            _dirty.UnionWith(_entries.Keys);
        }

        foreach (string target in _dirty.Where(_aliasesOf.ContainsKey).ToList())
        {
            _dirty.UnionWith(_aliasesOf[target].Keys);
        }

        var changes = new List<(byte[] Name, ZoneNode? Node)>(_dirty.Count);
        foreach (string name in _dirty)
        {
            if (DnsName.TryParse(name, out byte[] wire))
            {
                changes.Add((wire, _entries.TryGetValue(name, out Entry? entry) ? Encode(wire, entry, serial) : null));
            }
        }

        _dirty.Clear();
        ZoneTable nodes = (previous?.Nodes ?? ZoneTable.Empty).With(changes);
        return new ClusterZoneSnapshot(nodes, _apex, DnsSoa.EncodeWithoutOwner(_domain, ttl, serial, minimum: ttl), pods, ttl, synced);
    }

    /// <summary>Counts one more (or one less) reference to a name and, below the apex, to each of its ancestors.</summary>
    private Entry Reference(string name, int delta)
    {
        if (!_entries.TryGetValue(name, out Entry? entry))
        {
            entry = new Entry();
            _entries[name] = entry;
        }

        entry.References += delta;
        _dirty.Add(name);
        if (entry.References == 0)
        {
            _entries.Remove(name);
        }

        if (name.EndsWith("." + _domain, StringComparison.Ordinal))
        {
            Reference(name[(name.IndexOf('.', StringComparison.Ordinal) + 1)..], delta);
        }

        return entry;
    }

    private ZoneNode Encode(byte[] wire, Entry entry, uint serial)
    {
        DnsRecordType[] types = [.. entry.Records.Select(r => r.Type).Distinct()];
        var encoded = new PrecomputedRecords[types.Length];
        for (int i = 0; i < types.Length; i++)
        {
            DnsRecordType type = types[i];
            encoded[i] = Encode(wire, type, [.. entry.Records.Where(r => r.Type == type)], serial);
        }

        // An alias to a name of this zone answers A and AAAA with the target's addresses too, as CoreDNS does.
        ZoneRecord alias = entry.Records.FirstOrDefault(r => r.Type == DnsRecordType.CNAME);
        if (alias.Type == DnsRecordType.CNAME && alias.Target is { } target && _entries.TryGetValue(target, out Entry? resolved))
        {
            return new ZoneNode(types, encoded, entry.PodNamespaceReferences > 0, EncodeAlias(wire, alias, target, resolved, DnsRecordType.A), EncodeAlias(wire, alias, target, resolved, DnsRecordType.AAAA));
        }

        return new ZoneNode(types, encoded, entry.PodNamespaceReferences > 0);
    }

    /// <summary>The CNAME followed by the target's records of one address type; null when it has none.</summary>
    private PrecomputedRecords? EncodeAlias(byte[] owner, ZoneRecord alias, string target, Entry resolved, DnsRecordType type)
    {
        ZoneRecord[] addresses = [.. resolved.Records.Where(r => r.Type == type)];
        if (addresses.Length == 0)
        {
            return null;
        }

        var writer = new DnsMessageWriter(_scratch, _compression);
        writer.TryWriteBytes(new byte[DnsHeader.Size]);
        writer.TryWriteQuestion(owner, (ushort)type, (ushort)DnsClass.IN);
        int start = writer.Position;
        var ends = new List<int>(addresses.Length + 1);
        byte[] targetWire = DnsName.Parse(target);
        foreach ((byte[] name, ZoneRecord record) in addresses.Select(a => (targetWire, a)).Prepend((owner, alias)))
        {
            if (!TryWriteRecord(ref writer, name, record, 0, 0))
            {
                break;
            }

            ends.Add(writer.Position - start);
        }

        return new PrecomputedRecords(_scratch[start..writer.Position], [.. ends], ends.Count, authorityCount: 0);
    }

    private void TrackAlias(string owner, ZoneRecord record, int delta)
    {
        if (record.Type != DnsRecordType.CNAME || record.Target is not { } target)
        {
            return;
        }

        if (!_aliasesOf.TryGetValue(target, out Dictionary<string, int>? owners))
        {
            owners = new Dictionary<string, int>(StringComparer.Ordinal);
            _aliasesOf[target] = owners;
        }

        owners[owner] = owners.GetValueOrDefault(owner) + delta;
        if (owners[owner] == 0)
        {
            owners.Remove(owner);
            if (owners.Count == 0)
            {
                _aliasesOf.Remove(target);
            }
        }
    }

    /// <summary>Encodes one RRset behind a question for <paramref name="owner"/>, plus address glue for SRV and NS targets.</summary>
    private PrecomputedRecords Encode(byte[] owner, DnsRecordType type, ZoneRecord[] records, uint serial)
    {
        var writer = new DnsMessageWriter(_scratch, _compression);
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

        return new PrecomputedRecords(_scratch[start..writer.Position], [.. ends], answers, authorityCount: 0);
    }

    private void WriteGlue(ref DnsMessageWriter writer, ZoneRecord[] records, int start, List<int> ends, uint serial)
    {
        foreach (string target in records.Select(r => r.Target!).Distinct(StringComparer.Ordinal))
        {
            if (!_entries.TryGetValue(target, out Entry? entry) || !DnsName.TryParse(target, out byte[] targetWire))
            {
                continue;
            }

            foreach (ZoneRecord glue in entry.Records.Where(r => r.Type is DnsRecordType.A or DnsRecordType.AAAA))
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

        bool written = record.Type == DnsRecordType.SOA
            ? DnsSoa.TryWriteData(ref writer, _domain, serial, minimum: record.Ttl)
            : record.TryWriteData(ref writer, priority: 0, weight);
        if (!written)
        {
            writer.Rewind(start);
            return false;
        }

        writer.EndRecord(rdLength);
        return true;
    }

    private sealed class Entry
    {
        // Almost every name holds one record (a service's address, its PTR, its SRV): that record's count is a field,
        // and the counting dictionary is made only once a second distinct record comes. A dictionary and a list of
        // four per name held 8 MB for 10,000 services' 20,000 names; now their lists of one hold 1.1 MB.
        private readonly List<ZoneRecord> _records = new(1);
        private int _onlyRecordCount;
        private Dictionary<ZoneRecord, int>? _counts;

        /// <summary>Contributions naming this entry or a descendant; at zero the name no longer exists.</summary>
        public int References { get; set; }

        public int PodNamespaceReferences { get; set; }

        /// <summary>Distinct records in the order first contributed; duplicates (two slices, one IP) count once.</summary>
        public IReadOnlyList<ZoneRecord> Records => _records;

        public void AddRecord(ZoneRecord record)
        {
            if (_counts is null)
            {
                if (_records.Count == 0)
                {
                    _records.Add(record);
                    _onlyRecordCount = 1;
                    return;
                }

                if (_records[0].Equals(record))
                {
                    _onlyRecordCount++;
                    return;
                }

                _counts = new() { [_records[0]] = _onlyRecordCount };
            }

            int count = _counts.GetValueOrDefault(record) + 1;
            _counts[record] = count;
            if (count == 1)
            {
                _records.Add(record);
            }
        }

        public void RemoveRecord(ZoneRecord record)
        {
            if (_counts is null)
            {
                if (_records.Count == 0 || !_records[0].Equals(record))
                {
                    throw new KeyNotFoundException($"The record {record} was never added.");
                }

                if (--_onlyRecordCount == 0)
                {
                    _records.Clear();
                }

                return;
            }

            if (--_counts[record] == 0)
            {
                _counts.Remove(record);
                _records.Remove(record);
            }
        }
    }
}
