using System.Globalization;
using k8s;
using k8s.Models;

namespace Switchboard.Controllers.Workloads;

/// <summary>The annotations a Deployment and its ReplicaSets carry, as kubectl rollout reads them.</summary>
internal static class Revisions
{
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    public const string DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
    public const string MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";

    public static long Of(IKubernetesObject<V1ObjectMeta> obj) => Number(obj, RevisionAnnotation) ?? 0;

    /// <summary>The deployment replica count the ReplicaSet was last sized for.</summary>
    public static int? DesiredReplicas(V1ReplicaSet rs) => (int?)Number(rs, DesiredReplicasAnnotation);

    /// <summary>The deployment's replicas + maxSurge when the ReplicaSet was last sized.</summary>
    public static int? MaxReplicas(V1ReplicaSet rs) => (int?)Number(rs, MaxReplicasAnnotation);

    private static long? Number(IKubernetesObject<V1ObjectMeta> obj, string annotation) =>
        obj.Metadata.Annotations?.TryGetValue(annotation, out string? text) == true && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : null;

    public static string Text(long revision) => revision.ToString(CultureInfo.InvariantCulture);
}
