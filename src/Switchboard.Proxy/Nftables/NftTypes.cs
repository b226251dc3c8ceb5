namespace Switchboard.Proxy.Nftables;

/// <summary>Values of nf_tables expressions and nft's datatype ids, as the kernel uapi and nft's datatype.h number them.</summary>
internal static class NftTypes
{
    public const uint Ipv4Address = 7;
    public const uint InetProtocol = 12;
    public const uint InetService = 13;

    /// <summary>A host-order 32-bit value (nft's <c>mark</c>): our endpoint group and class numbers, as numgen writes its result.</summary>
    public const uint Mark = 19;

    /// <summary><c>ipv4_addr . inet_proto . inet_service</c>.</summary>
    public static readonly uint AddressProtocolPort = Concat(Ipv4Address, InetProtocol, InetService);

    /// <summary><c>inet_proto . inet_service</c>.</summary>
    public static readonly uint ProtocolPort = Concat(InetProtocol, InetService);

    /// <summary>RTN_LOCAL, as fib writes it (host order).</summary>
    public const uint RouteLocal = 2;

    /// <summary>The conntrack state bit of a connection's first packet (IP_CT_NEW as a ct state bit).</summary>
    public const uint CtStateNew = 8;

    /// <summary>A concatenation's type as nft packs it: 6 bits per field, the first field highest.</summary>
    public static uint Concat(params ReadOnlySpan<uint> types)
    {
        uint type = 0;
        foreach (uint t in types)
        {
            type = (type << 6) | t;
        }

        return type;
    }
}
