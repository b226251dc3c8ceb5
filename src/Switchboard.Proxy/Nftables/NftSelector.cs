namespace Switchboard.Proxy.Nftables;

/// <summary>
/// A chain that picks an endpoint for the entries of one map: <paramref name="NodePort"/> entries are keyed by
/// protocol and port only; a <paramref name="Shortcut"/> reads the cluster half of a Local policy's entry.
/// </summary>
internal sealed record NftSelector(string Chain, string Map, bool NodePort, bool Shortcut);
