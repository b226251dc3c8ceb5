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

    public static long Of(IKubernetesObject<V1ObjectMeta> obj) =>
        obj.Metadata.Annotations?.TryGetValue(RevisionAnnotation, out string? text) == true && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long revision) ? revision : 0;

    public static string Text(long revision) => revision.ToString(CultureInfo.InvariantCulture);
}
