namespace Switchboard.Proxy.Nftables;

/// <summary>Values of nf_tables expressions and nft's datatype ids, as the kernel uapi and nft's datatype.h number them.</summary>
internal static class NftTypes
{
    public const uint Integer = 4;
    public const uint Ipv4Address = 7;

    /// <summary><c>ipv4_addr . inet_proto . inet_service</c>: nft packs a concatenation's types 6 bits each, first highest.</summary>
    public const uint AddressProtocolPort = (7 << 12) | (12 << 6) | 13;

    /// <summary><c>inet_proto . inet_service</c>.</summary>
    public const uint ProtocolPort = (12 << 6) | 13;

    /// <summary>RTN_LOCAL, as fib writes it (host order).</summary>
    public const uint RouteLocal = 2;

    /// <summary>The conntrack state bit of a connection's first packet (IP_CT_NEW as a ct state bit).</summary>
    public const uint CtStateNew = 8;
}
