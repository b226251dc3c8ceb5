namespace Switchboard.Proxy.Nftables;

/// <summary>The packet metadata a meta expression reads or sets.</summary>
internal enum NftMetaKey : uint
{
    Mark = 3,
    L4Protocol = 16,
}
