using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Zones;

/// <summary>The outcome of one lookup, carrying no allocation of its own.</summary>
/// <remarks><c>ZoneOffset</c>: Where the zone apex starts inside the query name, for the SOA owner pointer of negative answers.</remarks>
/// <remarks><c>PodAddress</c>: Big-endian address bits of a pod answer; <paramref name="PodAddressType"/> tells A or AAAA.</remarks>
/// <remarks><c>NegativeSoa</c>: The SOA of a negative answer when it is not the cluster zone's (the SkyDNS zones).</remarks>
internal readonly record struct ZoneLookupResult(
    ZoneAnswerKind Kind,
    PrecomputedRecords? Records = null,
    int ZoneOffset = 0,
    UInt128 PodAddress = default,
    DnsRecordType PodAddressType = default,
    byte[]? NegativeSoa = null);
