using k8s.Models;

namespace Switchboard.Controllers.Scheduling;

/// <summary>
/// Taints against tolerations, as kube-scheduler's TaintToleration and NodeUnschedulable plugins weigh them: a node's
/// NoSchedule and NoExecute taints must each be tolerated, and a cordoned node takes only pods that tolerate
/// <see cref="Unschedulable"/> (DaemonSet pods do).
/// </summary>
internal static class Tolerations
{
    public const string Unschedulable = "node.kubernetes.io/unschedulable";

    /// <summary>Why a pod with <paramref name="spec"/> may not go to <paramref name="node"/> by taints or cordon (upstream's words), or null.</summary>
    public static string? Misfit(V1PodSpec? spec, V1Node node)
    {
        var tolerations = spec?.Tolerations ?? [];
        if (node.Spec?.Unschedulable == true && !Tolerates(tolerations, new V1Taint { Key = Unschedulable, Effect = "NoSchedule" }))
        {
            return "were unschedulable";
        }

        return (node.Spec?.Taints ?? []).Where(t => t.Effect is "NoSchedule" or "NoExecute").All(t => Tolerates(tolerations, t)) ? null : "had untolerated taints";
    }

    public static bool Tolerates(IEnumerable<V1Toleration> tolerations, V1Taint taint) =>
        tolerations.Any(t =>
            (string.IsNullOrEmpty(t.Effect) || t.Effect == taint.Effect)
            && (string.IsNullOrEmpty(t.Key) ? t.OperatorProperty == "Exists" : t.Key == taint.Key)
            && (t.OperatorProperty == "Exists" || t.Value == taint.Value));
}
