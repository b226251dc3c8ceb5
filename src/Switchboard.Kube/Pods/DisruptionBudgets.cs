using k8s.Models;
using Switchboard.Kube.Selectors;

namespace Switchboard.Kube.Pods;

/// <summary>
/// What the eviction subresource and the disruption controller share about policy/v1 PodDisruptionBudgets: which budgets
/// cover a pod, a pod's readiness as they count it, and the DisruptionAllowed condition (pdb helpers upstream).
/// </summary>
public static class DisruptionBudgets
{
    public const string IfHealthyBudget = "IfHealthyBudget";
    public const string AlwaysAllow = "AlwaysAllow";
    public const string DisruptionAllowedCondition = "DisruptionAllowed";

    /// <summary>Whether <paramref name="budget"/> covers <paramref name="pod"/>: same namespace, selector matching (a null selector matches nothing).</summary>
    public static bool Covers(V1PodDisruptionBudget budget, V1Pod pod) =>
        budget.Metadata.NamespaceProperty == pod.Metadata.NamespaceProperty && LabelSelector.Matches(budget.Spec?.Selector, pod.Metadata.Labels);

    /// <summary>podutil.IsPodReady: the Ready condition is True.</summary>
    public static bool IsReady(V1Pod pod) => pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    /// <summary>
    /// Sets DisruptionAllowed from status.disruptionsAllowed (True SufficientPods, False InsufficientPods), keeping the
    /// transition time while the status stays (meta.SetStatusCondition).
    /// </summary>
    public static void SetDisruptionAllowed(V1PodDisruptionBudgetStatus status, long? observedGeneration, DateTime now)
    {
        bool allowed = status.DisruptionsAllowed > 0;
        SetCondition(status, allowed ? "True" : "False", allowed ? "SufficientPods" : "InsufficientPods", "", observedGeneration, now);
    }

    /// <summary>meta.SetStatusCondition for DisruptionAllowed: a changed status moves the transition time; reason and message are replaced.</summary>
    public static void SetCondition(V1PodDisruptionBudgetStatus status, string value, string reason, string message, long? observedGeneration, DateTime now)
    {
        status.Conditions ??= [];
        var old = status.Conditions.FirstOrDefault(c => c.Type == DisruptionAllowedCondition);
        var condition = new V1Condition
        {
            Type = DisruptionAllowedCondition,
            Status = value,
            Reason = reason,
            Message = message,
            ObservedGeneration = observedGeneration,
            LastTransitionTime = old is not null && old.Status == value ? old.LastTransitionTime : now,
        };
        if (old is null)
        {
            status.Conditions.Add(condition);
        }
        else
        {
            status.Conditions[status.Conditions.IndexOf(old)] = condition;
        }
    }
}
