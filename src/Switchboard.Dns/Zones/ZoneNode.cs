using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Zones;

/// <summary>A name that exists in a snapshot, with its records pre-encoded per type. No types means an empty non-terminal.</summary>
internal sealed class ZoneNode
{
    // Most names (a service's, a reverse name) hold one type: those share the types array of the first node of that
    // type (it is never written), and keep their records without an array of them: about 58 bytes of each of the
    // 20,000 names of 10,000 services.
    private static readonly DnsRecordType[]?[] OneTypeArrays = new DnsRecordType[]?[256];

    private readonly DnsRecordType[] _types;

    // The records of _types[0], and of _types[1..] (null with fewer than two types).
    private readonly PrecomputedRecords? _first;
    private readonly PrecomputedRecords[]? _others;

    private readonly PrecomputedRecords? _aliasWithA;
    private readonly PrecomputedRecords? _aliasWithAaaa;

    /// <remarks><c>aliasWithA</c>, <c>aliasWithAaaa</c>: the CNAME plus its in-zone target's addresses, for A and AAAA queries.</remarks>
    public ZoneNode(DnsRecordType[] types, PrecomputedRecords[] records, bool isPodNamespace, PrecomputedRecords? aliasWithA = null, PrecomputedRecords? aliasWithAaaa = null)
    {
        _aliasWithA = aliasWithA;
        _aliasWithAaaa = aliasWithAaaa;
        _types = types.Length == 1 && (ushort)types[0] < OneTypeArrays.Length ? OneTypeArrays[(ushort)types[0]] ??= types : types;
        _first = records.Length > 0 ? records[0] : null;
        _others = records.Length > 1 ? records[1..] : null;
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
            return _first;
        }

        for (int i = 0; i < _types.Length; i++)
        {
            if ((ushort)_types[i] == type)
            {
                return i == 0 ? _first : _others![i - 1];
            }
        }

        return null;
    }
}
