namespace Switchboard.ApiServer.Registry;

/// <summary>How the /scale subresource reads and writes a kind's replicas (autoscaling/v1 Scale).</summary>
internal sealed record ScaleAccess<T>(Func<T, int> SpecReplicas, Action<T, int> SetSpecReplicas, Func<T, int> StatusReplicas, Func<T, string> Selector);
