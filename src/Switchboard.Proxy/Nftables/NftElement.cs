namespace Switchboard.Proxy.Nftables;

/// <summary>One element of a set or map of our table: its key, and in a map its data or the chain it jumps to.</summary>
internal sealed record NftElement(string Set, byte[] Key, byte[]? Data = null, string? Chain = null)
{
    /// <summary>The set and key, which identify the element in the kernel.</summary>
    public string Id { get; } = Set + " " + Convert.ToHexString(Key);

    /// <summary>Whether <paramref name="other"/> (same <see cref="Id"/>) has the same value, so nothing needs to be sent.</summary>
    public bool SameValue(NftElement other) =>
        Chain == other.Chain && (Data ?? []).AsSpan().SequenceEqual(other.Data ?? []);
}
