namespace Switchboard.Proxy.Nftables;

/// <summary>How a cmp expression compares a register with a value.</summary>
internal enum NftCmpOp : uint
{
    Equal = 0,
    NotEqual = 1,
}
