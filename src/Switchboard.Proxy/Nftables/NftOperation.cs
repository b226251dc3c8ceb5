namespace Switchboard.Proxy.Nftables;

/// <summary>The nf_tables message types a transaction uses (NFT_MSG_*; FlushChain is DELRULE without a handle).</summary>
internal enum NftOperation : ushort
{
    NewTable = 0,
    DelTable = 2,
    NewChain = 3,
    DelChain = 5,
    NewRule = 6,
    FlushChain = 8,
    NewSet = 9,
    DelSet = 11,
    NewSetElem = 12,
    DelSetElem = 14,
}
