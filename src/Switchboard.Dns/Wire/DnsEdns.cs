namespace Switchboard.Dns.Wire;

/// <summary>What a query's OPT pseudo-record asked for (RFC 6891); <see cref="Present"/> is false without one.</summary>
internal readonly record struct DnsEdns(bool Present, ushort UdpPayloadSize, byte Version, bool DnssecOk)
{
    /// <summary>Size of the OPT record this server writes: root owner, type, class, TTL, empty RDATA.</summary>
    public const int OptRecordSize = 11;

    public const int DoFlag = 0x8000;
}
