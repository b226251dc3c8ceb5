namespace Switchboard.Proxy.Nftables;

/// <summary>Where a payload expression reads from: the IP header or the transport header.</summary>
internal enum NftPayloadBase : uint
{
    Network = 1,
    Transport = 2,
}
