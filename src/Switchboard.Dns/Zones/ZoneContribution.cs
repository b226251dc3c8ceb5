namespace Switchboard.Dns.Zones;

/// <summary>
/// One thing a Kubernetes object puts into the zone: a record at a name, or just the name's existence
/// (<paramref name="Record"/> null), optionally marking it as a pod namespace.
/// </summary>
internal readonly record struct ZoneContribution(string Name, ZoneRecord? Record = null, bool PodNamespace = false);
