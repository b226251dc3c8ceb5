namespace Switchboard.Dns.Zones;

internal enum ZoneAnswerKind
{
    /// <summary>Records found: <see cref="ZoneLookupResult.Records"/>.</summary>
    Records,

    /// <summary>A pod name answered from its own label: <see cref="ZoneLookupResult.PodAddress"/>.</summary>
    PodAddress,

    /// <summary>The name exists, not with this type (RFC 2308 NODATA).</summary>
    NoData,

    NXDomain,

    /// <summary>Before the first sync a negative answer could be wrong: SERVFAIL, as CoreDNS does.</summary>
    NotReady,

    /// <summary>Not a name this zone answers; a forwarder may take it, alone the server refuses.</summary>
    NotAuthoritative,
}
