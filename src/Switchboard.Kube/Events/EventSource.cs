namespace Switchboard.Kube.Events;

/// <summary>Who reports an event: the component (<c>deployment-controller</c>, <c>kubelet</c>) and, for per-node components, the host.</summary>
public sealed record EventSource(string Component, string? Host = null);
