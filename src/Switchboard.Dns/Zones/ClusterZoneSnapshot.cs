using System.Runtime.CompilerServices;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Zones;

/// <summary>
/// An immutable view of the cluster zone and its reverse names. Lookups read it without locks; a change
/// builds a whole new snapshot that replaces this one.
/// </summary>
internal sealed class ClusterZoneSnapshot
{
    private readonly byte[] _apex;
    private readonly byte[] _negativeSoa;
    private readonly PodRecordMode _pods;

    public ClusterZoneSnapshot(ZoneTable nodes, byte[] apex, byte[] negativeSoa, PodRecordMode pods, uint ttl, bool synced)
    {
        Nodes = nodes;
        _apex = apex;
        _negativeSoa = negativeSoa;
        _pods = pods;
        Ttl = ttl;
        Synced = synced;
    }

    public bool Synced { get; }

    public uint Ttl { get; }

    /// <summary>The table behind lookups; never changed after construction, only copied into the next snapshot.</summary>
    public ZoneTable Nodes { get; }

    /// <summary>
    /// The SOA record of negative answers minus its owner (a pointer the caller writes): type, class, TTL,
    /// RDLENGTH and uncompressed RDATA.
    /// </summary>
    public ReadOnlySpan<byte> NegativeSoaWithoutOwner => _negativeSoa;

    /// <remarks><c>name</c>: The query name in lower case wire form.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ZoneLookupResult Lookup(ReadOnlySpan<byte> name, ushort type)
    {
        int zoneOffset = DnsName.FindSuffix(name, _apex);
        bool found = Nodes.TryGetValue(name, out ZoneNode? node);
        if (zoneOffset < 0)
        {
            // Reverse names: only exact PTR hits are ours; everything else is left to whoever forwards.
            PrecomputedRecords? pointer = found && type == (ushort)DnsRecordType.PTR ? node!.Find(type) : null;
            return pointer is null ? new(ZoneAnswerKind.NotAuthoritative) : new(ZoneAnswerKind.Records, pointer);
        }

        ZoneLookupResult result = found ? Answer(node!, type, zoneOffset) : Missing(name, type, zoneOffset);
        return !Synced && result.Kind is ZoneAnswerKind.NoData or ZoneAnswerKind.NXDomain ? new(ZoneAnswerKind.NotReady) : result;
    }

    private static ZoneLookupResult Answer(ZoneNode node, ushort type, int zoneOffset)
    {
        PrecomputedRecords? records = node.Find(type);
        return records is null ? new(ZoneAnswerKind.NoData, ZoneOffset: zoneOffset) : new(ZoneAnswerKind.Records, records, zoneOffset);
    }

    /// <summary>A name with no node: a pod name answered from its label in insecure mode, else NXDOMAIN.</summary>
    private ZoneLookupResult Missing(ReadOnlySpan<byte> name, ushort type, int zoneOffset)
    {
        if (_pods != PodRecordMode.Insecure || name[0] == 0)
        {
            return new(ZoneAnswerKind.NXDomain, ZoneOffset: zoneOffset);
        }

        ReadOnlySpan<byte> label = name.Slice(1, name[0]);
        if (!Nodes.TryGetValue(name[(1 + name[0])..], out ZoneNode? parent) || !parent.IsPodNamespace)
        {
            return new(ZoneAnswerKind.NXDomain, ZoneOffset: zoneOffset);
        }

        DnsRecordType family;
        UInt128 address;
        if (IpNames.TryParseDashedIPv4(label, out uint v4))
        {
            (family, address) = (DnsRecordType.A, v4);
        }
        else if (IpNames.TryParseDashedIPv6(label, out UInt128 v6))
        {
            (family, address) = (DnsRecordType.AAAA, v6);
        }
        else
        {
            return new(ZoneAnswerKind.NXDomain, ZoneOffset: zoneOffset);
        }

        return type == (ushort)family || type == (ushort)DnsRecordType.ANY
            ? new(ZoneAnswerKind.PodAddress, ZoneOffset: zoneOffset, PodAddress: address, PodAddressType: family)
            : new(ZoneAnswerKind.NoData, ZoneOffset: zoneOffset);
    }
}
