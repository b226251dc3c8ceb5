using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Zones;

/// <summary>A name that exists in a snapshot, with its records pre-encoded per type. No types means an empty non-terminal.</summary>
internal sealed class ZoneNode
{
    private readonly DnsRecordType[] _types;
    private readonly PrecomputedRecords[] _records;

    private readonly PrecomputedRecords? _aliasWithA;
    private readonly PrecomputedRecords? _aliasWithAaaa;

    /// <remarks><c>aliasWithA</c>, <c>aliasWithAaaa</c>: the CNAME plus its in-zone target's addresses, for A and AAAA queries.</remarks>
    public ZoneNode(DnsRecordType[] types, PrecomputedRecords[] records, bool isPodNamespace, PrecomputedRecords? aliasWithA = null, PrecomputedRecords? aliasWithAaaa = null)
    {
        _aliasWithA = aliasWithA;
        _aliasWithAaaa = aliasWithAaaa;
        _types = types;
        _records = records;
        IsPodNamespace = isPodNamespace;
        int cname = Array.IndexOf(types, DnsRecordType.CNAME);
        Alias = cname >= 0 ? records[cname] : null;
    }

    /// <summary><c>&lt;ns&gt;.pod.&lt;zone&gt;</c>: names directly below it may be answered from the label itself.</summary>
    public bool IsPodNamespace { get; }

    /// <summary>A CNAME answers every type (RFC 1034 3.6.2).</summary>
    public PrecomputedRecords? Alias { get; }

    public PrecomputedRecords? Find(ushort type)
    {
        if (Alias is not null)
        {
            return type switch
            {
                (ushort)DnsRecordType.A => _aliasWithA ?? Alias,
                (ushort)DnsRecordType.AAAA => _aliasWithAaaa ?? Alias,
                _ => Alias,
            };
        }

        if (type == (ushort)DnsRecordType.ANY)
        {
            // RFC 8482: one RRset is a complete answer to ANY.
            return _records.Length > 0 ? _records[0] : null;
        }

        for (int i = 0; i < _types.Length; i++)
        {
            if ((ushort)_types[i] == type)
            {
                return _records[i];
            }
        }

        return null;
    }
}
