using k8s.Models;

namespace Switchboard.Kube.Pods;

/// <summary>A pod's quality of service class (kubernetes pkg/apis/core/helper/qos): set by the API server at creation, used by the node for its cgroup layout.</summary>
public static class PodQos
{
    public const string Guaranteed = "Guaranteed";
    public const string Burstable = "Burstable";
    public const string BestEffort = "BestEffort";

    /// <summary>
    /// BestEffort when no container asks for or limits anything; Guaranteed when every container limits cpu and memory and
    /// requests (a missing request defaults to the limit) equal the limits; else Burstable.
    /// </summary>
    public static string Of(V1PodSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var all = (spec.InitContainers ?? []).Concat(spec.Containers ?? []).ToList();
        bool none = all.All(c => (c.Resources?.Limits?.Count ?? 0) == 0 && (c.Resources?.Requests?.Count ?? 0) == 0);
        bool guaranteed = all.All(c => c.Resources?.Limits is { } l && l.ContainsKey("cpu") && l.ContainsKey("memory")
            && (c.Resources.Requests is null || c.Resources.Requests.All(r => l.TryGetValue(r.Key, out var v) && v.ToDecimal() == r.Value.ToDecimal())));
        return none ? BestEffort : guaranteed ? Guaranteed : Burstable;
    }
}
