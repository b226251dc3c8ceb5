namespace Switchboard.Proxy.Nftables;

/// <summary>
/// What the selection rules of a group depend on: its endpoint count (numgen's modulus) and its affinity timeout.
/// Groups share the rules of their class, so a change of endpoints is a change of elements only.
/// </summary>
internal sealed record NftClass(uint Id, int Endpoints, int AffinitySeconds);
