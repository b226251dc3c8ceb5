using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.ApiServer.Validation;
using Switchboard.Kube.Pods;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// policy/v1 PodDisruptionBudgets: the spec as kube-apiserver validates it (one of minAvailable and maxUnavailable, each a
/// count or a percentage up to 100%, the selector, the unhealthy pod eviction policy); the status is the disruption
/// controller's, and the eviction subresource's when it takes one disruption.
/// </summary>
internal sealed class PodDisruptionBudgetStrategy : ResourceStrategy<V1PodDisruptionBudget>
{
    private static readonly IReadOnlyList<TableColumn<V1PodDisruptionBudget>> Table =
    [
        Columns.Name<V1PodDisruptionBudget>(),
        new("Min Available", "string", 0, (p, _) => p.Spec?.MinAvailable?.Value ?? "N/A", "", "The minimum number or percentage of available pods this budget requires."),
        new("Max Unavailable", "string", 0, (p, _) => p.Spec?.MaxUnavailable?.Value ?? "N/A", "", "The maximum number or percentage of unavailable pods this budget requires."),
        new("Allowed Disruptions", "integer", 0, (p, _) => p.Status?.DisruptionsAllowed ?? 0, "", "The number of disruptions which are allowed."),
        Columns.Age<V1PodDisruptionBudget>(),
    ];

    public override IReadOnlyList<TableColumn<V1PodDisruptionBudget>> TableColumns => Table;

    public override IEnumerable<FieldError> Validate(V1PodDisruptionBudget obj)
    {
        var spec = obj.Spec ?? new V1PodDisruptionBudgetSpec();
        if (spec.MinAvailable is not null && spec.MaxUnavailable is not null)
        {
            yield return FieldError.Invalid("spec", new LiteralValue($"policy.PodDisruptionBudgetSpec{{MinAvailable:{spec.MinAvailable.Value}, MaxUnavailable:{spec.MaxUnavailable.Value}}}"), "minAvailable and maxUnavailable cannot be both set");
        }

        foreach (var error in IntOrPercent.Validate(spec.MinAvailable, "spec.minAvailable").Concat(IntOrPercent.Validate(spec.MaxUnavailable, "spec.maxUnavailable")))
        {
            yield return error;
        }

        foreach (var error in LabelSelectorRules.Validate(spec.Selector, "spec.selector"))
        {
            yield return error;
        }

        if (spec.UnhealthyPodEvictionPolicy is { } policy and not (DisruptionBudgets.IfHealthyBudget or DisruptionBudgets.AlwaysAllow))
        {
            yield return FieldError.NotSupported("spec.unhealthyPodEvictionPolicy", policy, DisruptionBudgets.AlwaysAllow, DisruptionBudgets.IfHealthyBudget);
        }
    }
}
