using k8s;
using k8s.Models;
using Switchboard.Kube.Selectors;

namespace Switchboard.Controllers.Shared;

/// <summary>
/// The pods a workload controller (ReplicaSet, StatefulSet, DaemonSet, Job) controls: those it already owns, plus the
/// active orphans of its namespace its selector matches, claimed through <see cref="ControllerRefManager"/>.
/// </summary>
internal static class PodClaims
{
    public static Task<List<V1Pod>> ClaimAsync(
        ControllerContext context,
        IKubernetesObject<V1ObjectMeta> owner,
        string apiVersion,
        string kind,
        V1LabelSelector? selector,
        Func<CancellationToken, Task<IKubernetesObject<V1ObjectMeta>>> readOwner,
        CancellationToken cancellationToken)
    {
        var podCache = context.Informers.Pods.Cache;
        var candidates = podCache.ByIndex(SharedInformers.OwnerIndex, owner.Metadata.Uid).Where(p => Objects.IsControlledBy(p, owner))
            .Concat(Orphans(context, owner.Metadata.NamespaceProperty, selector).Where(Objects.IsActive));
        return ControllerRefManager.ClaimAsync(
            owner, apiVersion, kind, selector, candidates, readOwner,
            (pod, patch, ct) => context.Client.CoreV1.PatchNamespacedPodAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: ct),
            cancellationToken);
    }

    /// <summary>Pods in the namespace with no controller that <paramref name="selector"/> matches.</summary>
    private static IEnumerable<V1Pod> Orphans(ControllerContext context, string ns, V1LabelSelector? selector)
    {
        var cache = context.Informers.Pods.Cache;
        var pool = selector?.MatchLabels is { Count: > 0 } labels
            ? cache.ByIndex(SharedInformers.LabelIndex, LabelSets.IndexValue(labels.First().Key, labels.First().Value))
            : cache.InNamespace(ns);
        return pool.Where(p => p.Metadata.NamespaceProperty == ns && Objects.ControllerOf(p) is null && LabelSelector.MatchesNonEmpty(selector, p.Metadata.Labels));
    }
}
