namespace Switchboard.Proxy.Nftables;

/// <summary>
/// What the selection rule of a group depends on: its endpoint count (numgen's modulus) and its affinity timeout.
/// Groups share the map and rules of their class, so a change of endpoints is a change of elements only.
/// </summary>
internal sealed record NftClass(int Endpoints, int AffinitySeconds);
