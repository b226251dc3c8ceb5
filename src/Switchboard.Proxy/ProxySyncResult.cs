namespace Switchboard.Proxy;

/// <summary>What one sync did: full or partial, how many service ports it rewrote, the bytes sent to the kernel and the time it took.</summary>
internal sealed record ProxySyncResult(bool Full, int ChangedServicePorts, int Bytes, TimeSpan Duration)
{
    /// <summary>The rules programmed per table after the sync, for modes that count them (iptables: filter and nat).</summary>
    public IReadOnlyList<KeyValuePair<string, int>> TableRules { get; init; } = [];
}
