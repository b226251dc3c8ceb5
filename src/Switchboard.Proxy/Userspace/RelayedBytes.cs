namespace Switchboard.Proxy.Userspace;

/// <summary>What a <see cref="TcpRelay"/> passed on each way by the time it closed: a connection's size, for its close to report.</summary>
/// <param name="FromClient">The bytes the backend took from the client.</param>
/// <param name="FromBackend">The bytes the client took from the backend.</param>
internal readonly record struct RelayedBytes(long FromClient, long FromBackend);
