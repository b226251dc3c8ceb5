namespace Switchboard.Proxy.Nftables;

/// <summary>The kernel refused an nf_tables transaction, or did not confirm it; the message names what failed and why.</summary>
public sealed class NftablesException(string message) : IOException(message);
