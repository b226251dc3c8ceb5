namespace Switchboard.Storage;

/// <summary>A lease as etcd's LeaseTimeToLive tells it.</summary>
/// <param name="Id">The lease.</param>
/// <param name="GrantedTtl">The TTL it was granted with, in seconds.</param>
/// <param name="RemainingTtl">The seconds left before it expires unless kept alive.</param>
/// <param name="Keys">The keys attached to it, in key order.</param>
public sealed record LeaseInfo(long Id, long GrantedTtl, long RemainingTtl, IReadOnlyList<string> Keys);
