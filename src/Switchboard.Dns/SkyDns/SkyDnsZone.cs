using System.Net;
using System.Net.Sockets;
using Switchboard.Dns.Wire;
using Switchboard.Dns.Zones;

namespace Switchboard.Dns.SkyDns;

/// <summary>
/// The SkyDNS zones, answered from records mirrored out of the store by <see cref="SkyDnsWatcher"/> with
/// SkyDNS / CoreDNS-etcd rules: a name's records are every leaf at or below its key path; a <c>host</c> that
/// is an address gives A/AAAA, a name gives a CNAME; SRV from port, priority and weight; TXT from text.
/// Answers are encoded per query (this zone is not the hot path), from a copy taken under a lock.
/// </summary>
internal sealed class SkyDnsZone
{
    /// <summary>SkyDNS's floor for the TTL of negative answers.</summary>
    public const uint NegativeTtl = 30;

    private const int MaxCnameDepth = 8;
    private const ushort DefaultPriority = 10;

    private readonly Lock _gate = new();
    private readonly SkyDnsOptions _options;
    private readonly TimeProvider _time;
    private readonly (string Name, byte[] Wire)[] _zones;
    private readonly Dictionary<string, Leaf> _leaves = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _keys = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _firstSync = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _synced;
    private uint _serial;

    public SkyDnsZone(SkyDnsOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _zones = [.. options.Zones.Select(z => z.Trim('.').ToLowerInvariant()).Select(z => (z, DnsName.Parse(z)))];
        _serial = Now();
    }

    public bool IsSynced
    {
        get
        {
            lock (_gate)
            {
                return _synced;
            }
        }
    }

    /// <summary>Completes once the zone has loaded the store's records for the first time.</summary>
    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _firstSync.Task.WaitAsync(cancellationToken);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _leaves.Count;
            }
        }
    }

    /// <summary>Replaces every record (the initial range, or a re-list after compaction) and marks the zone synced.</summary>
    public void ReplaceAll(IEnumerable<(string Key, byte[] Value)> items)
    {
        lock (_gate)
        {
            _leaves.Clear();
            _keys.Clear();
            foreach ((string key, byte[] value) in items)
            {
                SetLocked(key, value);
            }

            _synced = true;
            _serial = Now();
        }

        _firstSync.TrySetResult();
    }

    public void Set(string key, byte[] value)
    {
        lock (_gate)
        {
            SetLocked(key, value);
            _serial = Now();
        }
    }

    public void Remove(string key)
    {
        lock (_gate)
        {
            _leaves.Remove(key);
            _keys.Remove(key);
            _serial = Now();
        }
    }

    /// <remarks><c>name</c>: the query name in lower-case wire form.</remarks>
    public ZoneLookupResult Lookup(ReadOnlySpan<byte> name, ushort type)
    {
        int zone = -1;
        int zoneOffset = -1;
        for (int i = 0; i < _zones.Length; i++)
        {
            int offset = DnsName.FindSuffix(name, _zones[i].Wire);
            if (offset >= 0 && (zoneOffset < 0 || offset < zoneOffset))
            {
                (zone, zoneOffset) = (i, offset);
            }
        }

        if (zone < 0)
        {
            return new(ZoneAnswerKind.NotAuthoritative);
        }

        string text = DnsName.ToText(name).TrimEnd('.');
        string apex = _zones[zone].Name;
        lock (_gate)
        {
            if (!_synced)
            {
                return new(ZoneAnswerKind.NotReady);
            }

            byte[] negative = DnsSoa.EncodeWithoutOwner(apex, NegativeTtl, _serial, NegativeTtl);
            if (zoneOffset == 0)
            {
                return Apex(name.ToArray(), apex, type, negative);
            }

            List<Leaf> leaves = Group(LeavesAt(text));
            if (leaves.Count == 0)
            {
                return new(ZoneAnswerKind.NXDomain, ZoneOffset: zoneOffset, NegativeSoa: negative);
            }

            var answer = new SkyDnsAnswer(name.ToArray());
            AddAnswers(answer, text, leaves, type, depth: 0);
            PrecomputedRecords? records = answer.Encode();
            return records is null
                ? new(ZoneAnswerKind.NoData, ZoneOffset: zoneOffset, NegativeSoa: negative)
                : new(ZoneAnswerKind.Records, records, zoneOffset);
        }
    }

    private void SetLocked(string key, byte[] value)
    {
        string? name = SkyDnsPath.ToName(_options.Prefix, key);
        SkyDnsRecord? record = name is null ? null : SkyDnsRecord.TryParse(value);
        if (record is null)
        {
            _leaves.Remove(key);
            _keys.Remove(key);
            return;
        }

        _leaves[key] = new Leaf(key, name!, record);
        _keys.Add(key);
    }

    /// <summary>
    /// Every leaf whose key is the name's path or lies below it; a <c>*</c> label matches any one label, as in
    /// SkyDNS and CoreDNS's etcd plugin (<c>*.web.skydns.local</c> is every record one level or more below web).
    /// </summary>
    private List<Leaf> LeavesAt(string name)
    {
        string path = SkyDnsPath.FromName(_options.Prefix, name);
        string[] pattern = path.Split('/');
        int wildcard = Array.IndexOf(pattern, "*");
        if (wildcard >= 0)
        {
            string fixedPart = string.Join('/', pattern[..wildcard]) + "/";
            return
            [
                .. _keys.GetViewBetween(fixedPart, fixedPart[..^1] + "0")
                    .Where(k => k.StartsWith(fixedPart, StringComparison.Ordinal) && MatchesPattern(k.Split('/'), pattern))
                    .Select(k => _leaves[k]),
            ];
        }

        var found = new List<Leaf>();
        if (_leaves.TryGetValue(path, out Leaf? exact))
        {
            found.Add(exact);
        }

        // '0' sorts right after '/', so this view is exactly the keys starting with "path/".
        found.AddRange(_keys.GetViewBetween(path + "/", path + "0").Where(k => k.StartsWith(path + "/", StringComparison.Ordinal)).Select(k => _leaves[k]));
        return found;
    }

    private static bool MatchesPattern(string[] key, string[] pattern)
    {
        if (key.Length < pattern.Length)
        {
            return false;
        }

        for (int i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] != "*" && !string.Equals(pattern[i], key[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private void AddAnswers(SkyDnsAnswer answer, string owner, List<Leaf> leaves, ushort type, int depth)
    {
        byte[] ownerWire = DnsName.Parse(owner);
        switch ((DnsRecordType)type)
        {
            case DnsRecordType.A or DnsRecordType.AAAA or DnsRecordType.ANY or DnsRecordType.CNAME:
                foreach (Leaf leaf in leaves)
                {
                    if (leaf.Address is { } address)
                    {
                        if (Matches(address, type))
                        {
                            answer.Answer(ownerWire, new ZoneRecord(ZoneRecord.ForAddress(address, 0).Type, Ttl(leaf), Address: address));
                        }
                    }
                    else if (leaf.Target is { } target && target != owner && answer.TryAddCname())
                    {
                        // One CNAME per name (RFC 2181 10.1), none to itself (kube2sky's SRV leaves name their
                        // service); the target's own records follow when they are ours.
                        answer.Answer(ownerWire, new ZoneRecord(DnsRecordType.CNAME, Ttl(leaf), Target: target));
                        if (type != (ushort)DnsRecordType.CNAME && depth < MaxCnameDepth && InZones(target))
                        {
                            AddAnswers(answer, target, Group(LeavesAt(target)), type, depth + 1);
                        }
                    }
                }

                break;
            case DnsRecordType.SRV:
                AddServices(answer, ownerWire, leaves);
                break;
            case DnsRecordType.TXT:
                foreach (Leaf leaf in leaves.Where(l => !string.IsNullOrEmpty(l.Record.Text)))
                {
                    answer.Answer(ownerWire, new ZoneRecord(DnsRecordType.TXT, Ttl(leaf), Text: leaf.Record.Text));
                }

                break;
        }
    }

    /// <summary>
    /// SRV as CoreDNS's etcd plugin writes it: priority 10 unless set; within a priority each weight becomes
    /// its share of 100 (0 counting as 100), at least 1. An address host's target is the leaf's own name
    /// (less <c>targetstrip</c> labels) with the address as glue.
    /// </summary>
    private void AddServices(SkyDnsAnswer answer, byte[] ownerWire, List<Leaf> leaves)
    {
        List<Leaf> hosts = [.. leaves.Where(l => l.Address is not null || l.Target is not null)];
        Dictionary<int, int> weightSums = hosts
            .GroupBy(Priority)
            .ToDictionary(g => g.Key, g => g.Sum(l => l.Record.Weight == 0 ? 100 : l.Record.Weight));
        foreach (Leaf leaf in hosts)
        {
            int weight = leaf.Record.Weight == 0 ? 100 : leaf.Record.Weight;
            ushort share = (ushort)Math.Max(1, 100 * weight / weightSums[Priority(leaf)]);
            string target = leaf.Target ?? Strip(leaf.Name, leaf.Record.TargetStrip);
            answer.Answer(ownerWire, new ZoneRecord(DnsRecordType.SRV, Ttl(leaf), Target: target, Port: (ushort)Math.Clamp(leaf.Record.Port, 0, ushort.MaxValue)), (ushort)Priority(leaf), share);
            if (leaf.Address is { } address)
            {
                answer.Additional(DnsName.Parse(target), ZoneRecord.ForAddress(address, Ttl(leaf)));
            }
        }
    }

    private ZoneLookupResult Apex(byte[] name, string apex, ushort type, byte[] negative)
    {
        var answer = new SkyDnsAnswer(name);
        uint ttl = _options.DefaultTtl;
        if (type is (ushort)DnsRecordType.SOA)
        {
            answer.Answer(name, new ZoneRecord(DnsRecordType.SOA, ttl), soa: SoaData(apex, _serial, NegativeTtl));
        }
        else if (type is (ushort)DnsRecordType.NS)
        {
            answer.Answer(name, new ZoneRecord(DnsRecordType.NS, ttl, Target: "ns.dns." + apex));
        }

        PrecomputedRecords? records = answer.Encode();
        return records is null ? new(ZoneAnswerKind.NoData, NegativeSoa: negative) : new(ZoneAnswerKind.Records, records);
    }

    /// <summary>The SOA RDATA, names uncompressed.</summary>
    private static byte[] SoaData(string apex, uint serial, uint minimum)
    {
        var writer = new DnsMessageWriter(new byte[2 * DnsName.MaxLength + 20], []);
        DnsSoa.TryWriteData(ref writer, apex, serial, minimum);
        return writer.Written.ToArray();
    }

    /// <summary>
    /// SkyDNS groups: the shortest key with a group sets it, and then only leaves of that group (or of none)
    /// count — unless leaves at that same depth disagree, in which case there is no group.
    /// </summary>
    private static List<Leaf> Group(List<Leaf> leaves)
    {
        if (leaves.Count == 0)
        {
            return leaves;
        }

        int depth = Depth(leaves[0]);
        string? group = leaves[0].Record.Group;
        foreach (Leaf leaf in leaves)
        {
            if (Depth(leaf) < depth)
            {
                if (string.IsNullOrEmpty(leaf.Record.Group))
                {
                    break;
                }

                depth = Depth(leaf);
                group = leaf.Record.Group;
            }
        }

        if (string.IsNullOrEmpty(group))
        {
            return leaves;
        }

        var kept = new List<Leaf>();
        foreach (Leaf leaf in leaves)
        {
            if (string.IsNullOrEmpty(leaf.Record.Group) || leaf.Record.Group == group)
            {
                kept.Add(leaf);
            }
            else if (Depth(leaf) == depth)
            {
                return leaves;
            }
        }

        return kept;
    }

    private static int Depth(Leaf leaf) => leaf.Key.Count(c => c == '/');

    private static int Priority(Leaf leaf) => leaf.Record.Priority == 0 ? DefaultPriority : leaf.Record.Priority;

    private static bool Matches(IPAddress address, ushort type) => type switch
    {
        (ushort)DnsRecordType.A => address.AddressFamily == AddressFamily.InterNetwork,
        (ushort)DnsRecordType.AAAA => address.AddressFamily == AddressFamily.InterNetworkV6,
        (ushort)DnsRecordType.ANY => true,
        _ => false,
    };

    private static string Strip(string name, int labels)
    {
        string[] parts = name.Split('.');
        return labels > 0 && labels < parts.Length ? string.Join('.', parts[labels..]) : name;
    }

    private bool InZones(string name) => _zones.Any(z => name == z.Name || name.EndsWith("." + z.Name, StringComparison.Ordinal));

    private uint Ttl(Leaf leaf) => leaf.Record.Ttl > 0 ? leaf.Record.Ttl : _options.DefaultTtl;

    private uint Now() => (uint)_time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>One stored record with its name and its host already classified as an address or a name.</summary>
    private sealed class Leaf
    {
        public Leaf(string key, string name, SkyDnsRecord record)
        {
            Key = key;
            Name = name;
            Record = record;
            string? host = record.Host?.Trim().TrimEnd('.');
            if (string.IsNullOrEmpty(host))
            {
                return;
            }

            if (IPAddress.TryParse(host, out IPAddress? address))
            {
                Address = address;
            }
            else if (DnsName.TryParse(host, out _))
            {
                Target = host.ToLowerInvariant();
            }
        }

        public string Key { get; }

        public string Name { get; }

        public SkyDnsRecord Record { get; }

        public IPAddress? Address { get; }

        public string? Target { get; }
    }
}
