namespace Switchboard.Proxy.Iptables;

/// <summary>What one sync did: full or partial, how many service ports it rewrote, the document's size and the time it took.</summary>
internal sealed record IptablesSyncResult(bool Full, int ChangedServicePorts, int Bytes, TimeSpan Duration);
