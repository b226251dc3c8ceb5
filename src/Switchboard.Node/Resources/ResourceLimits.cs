using k8s.Models;

namespace Switchboard.Node.Resources;

/// <summary>
/// A container's or a pod's cpu and memory as kubelet turns them into cgroup values (pkg/kubelet/cm/helpers_linux.go):
/// shares from the cpu request, a CFS quota over a 100 ms period from the cpu limit, the memory limit in bytes.
/// </summary>
internal sealed record ResourceLimits(long CpuShares, long? CpuQuotaMicros, long? MemoryBytes)
{
    public const long CpuPeriodMicros = 100_000;
    private const long MinShares = 2;
    private const long MinQuotaMicros = 1_000;

    public static ResourceLimits Of(V1Container container)
    {
        ArgumentNullException.ThrowIfNull(container);
        var limits = container.Resources?.Limits;
        var requests = container.Resources?.Requests;
        long? cpuLimit = Millis(limits, "cpu");
        // The API server defaults a missing request to the limit; a container read before defaulting gets the same.
        long? cpuRequest = Millis(requests, "cpu") ?? cpuLimit;
        return new ResourceLimits(Shares(cpuRequest ?? 0), Quota(cpuLimit), limits?.TryGetValue("memory", out var memory) == true ? memory.ToInt64() : null);
    }

    /// <summary>The pod's cgroup: shares summed; a quota or memory limit only when every container has one (kubelet's pod limits).</summary>
    public static ResourceLimits OfPod(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var containers = pod.Spec.Containers.Select(Of).ToList();
        long shares = Shares(pod.Spec.Containers.Sum(c => Millis(c.Resources?.Requests, "cpu") ?? Millis(c.Resources?.Limits, "cpu") ?? 0));
        return new ResourceLimits(
            shares,
            containers.All(c => c.CpuQuotaMicros is not null) ? containers.Sum(c => c.CpuQuotaMicros!.Value) : null,
            containers.All(c => c.MemoryBytes is not null) ? containers.Sum(c => c.MemoryBytes!.Value) : null);
    }

    /// <summary>cgroup v2's cpu.weight for the shares (the conversion kubelet and runc used through 1.2).</summary>
    public long CpuWeight => 1 + ((CpuShares - 2) * 9999 / 262142);

    private static long Shares(long millis) => Math.Max(MinShares, millis * 1024 / 1000);

    private static long? Quota(long? millis) => millis is { } m ? Math.Max(MinQuotaMicros, m * CpuPeriodMicros / 1000) : null;

    private static long? Millis(IDictionary<string, ResourceQuantity>? resources, string name) =>
        resources?.TryGetValue(name, out var quantity) == true ? (long)Math.Ceiling(quantity.ToDecimal() * 1000) : null;
}
