namespace Switchboard.Dns.Wire;

/// <summary>
/// How large a response may be: the server's own EDNS UDP payload size (advertised in its OPT record) and, per
/// query, what the client can take.
/// </summary>
internal readonly struct DnsPayloadLimit
{
    public const int MaxMessageSize = ushort.MaxValue;

    /// <summary>Plain DNS over UDP (RFC 1035 4.2.1), and the floor for an EDNS size (RFC 6891 6.2.5).</summary>
    public const int ClassicUdpPayloadSize = 512;

    public DnsPayloadLimit(int maxUdpPayloadSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxUdpPayloadSize, ClassicUdpPayloadSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxUdpPayloadSize, MaxMessageSize);
        Advertised = (ushort)maxUdpPayloadSize;
    }

    /// <summary>The largest UDP response this server sends, which its OPT record advertises.</summary>
    public ushort Advertised { get; }

    /// <summary>
    /// The largest response to a query: a whole message over TCP; over UDP the client's EDNS size held between 512
    /// and <see cref="Advertised"/>, or 512 without EDNS.
    /// </summary>
    public int For(in DnsEdns edns, bool overTcp) =>
        overTcp ? MaxMessageSize
        : edns.Present ? Math.Clamp((int)edns.UdpPayloadSize, ClassicUdpPayloadSize, Advertised)
        : ClassicUdpPayloadSize;
}
