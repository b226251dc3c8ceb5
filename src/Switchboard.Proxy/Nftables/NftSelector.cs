using System.Globalization;

namespace Switchboard.Proxy.Nftables;

/// <summary>
/// A chain that picks an endpoint for one kind of entry (<paramref name="NodePort"/> entries are keyed by protocol
/// and port only): <paramref name="Set"/> holds all entries of that kind, one set per class names the entries of
/// that class, and <paramref name="Endpoints"/> maps an entry and an index to an endpoint.
/// </summary>
internal sealed record NftSelector(string Chain, string Set, string Endpoints, bool NodePort)
{
    /// <summary><c>SET-K</c>, or <c>SET-K-affinity-T</c>: named by the class, so the same services make the same names.</summary>
    public string SetOf(NftClass c) => c.AffinitySeconds > 0
        ? string.Create(CultureInfo.InvariantCulture, $"{Set}-{c.Endpoints}-affinity-{c.AffinitySeconds}")
        : string.Create(CultureInfo.InvariantCulture, $"{Set}-{c.Endpoints}");

    /// <summary>The dynamic map of an affinity class: <c>client . entry : endpoint</c>, each element expiring after the timeout.</summary>
    public string ClientsOf(NftClass c) => SetOf(c) + "-clients";
}
