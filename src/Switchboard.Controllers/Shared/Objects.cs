using k8s;
using k8s.Models;

namespace Switchboard.Controllers.Shared;

/// <summary>Facts about objects that several controllers ask: controller owner, pod readiness and lifecycle.</summary>
internal static class Objects
{
    public static V1OwnerReference? ControllerOf(IKubernetesObject<V1ObjectMeta> obj) =>
        obj.Metadata.OwnerReferences?.FirstOrDefault(r => r.Controller == true);

    public static bool IsControlledBy(IKubernetesObject<V1ObjectMeta> obj, IKubernetesObject<V1ObjectMeta> owner) =>
        ControllerOf(obj)?.Uid == owner.Metadata.Uid;

    public static V1OwnerReference ControllerReference(IKubernetesObject<V1ObjectMeta> owner, string apiVersion, string kind) => new()
    {
        ApiVersion = apiVersion,
        Kind = kind,
        Name = owner.Metadata.Name,
        Uid = owner.Metadata.Uid,
        Controller = true,
        BlockOwnerDeletion = true,
    };

    public static bool IsReady(V1Pod pod) =>
        pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    public static bool IsTerminal(V1Pod pod) => pod.Status?.Phase is "Succeeded" or "Failed";

    public static bool IsTerminating(IKubernetesObject<V1ObjectMeta> obj) => obj.Metadata.DeletionTimestamp is not null;

    /// <summary>A pod that counts toward a ReplicaSet's replicas: neither finished nor being deleted.</summary>
    public static bool IsActive(V1Pod pod) => !IsTerminal(pod) && !IsTerminating(pod);

    /// <summary>Ready for at least <paramref name="minReadySeconds"/> at <paramref name="now"/>.</summary>
    public static bool IsAvailable(V1Pod pod, int minReadySeconds, DateTimeOffset now)
    {
        var ready = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
        if (ready?.Status != "True")
        {
            return false;
        }

        return minReadySeconds <= 0 || ready.LastTransitionTime is not { } since
            || since.ToUniversalTime() + TimeSpan.FromSeconds(minReadySeconds) <= now.UtcDateTime;
    }
}
