using System.Globalization;

namespace Switchboard.Proxy.Nftables;

/// <summary>
/// A chain that picks an endpoint for one kind of entry (<paramref name="NodePort"/> entries are keyed by protocol
/// and port only), with one map per class named after <paramref name="Map"/>, the set of all entries of that kind.
/// </summary>
internal sealed record NftSelector(string Chain, string Map, bool NodePort)
{
    /// <summary><c>MAP-K</c>, or <c>MAP-K-affinity-T</c>: named by the class, so the same services make the same names.</summary>
    public string MapOf(NftClass c) => c.AffinitySeconds > 0
        ? string.Create(CultureInfo.InvariantCulture, $"{Map}-{c.Endpoints}-affinity-{c.AffinitySeconds}")
        : string.Create(CultureInfo.InvariantCulture, $"{Map}-{c.Endpoints}");
}
