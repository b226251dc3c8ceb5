using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Kinds;

/// <summary>apps/v1 DaemonSets: upstream's defaults (rolling update, one unavailable, no surge) and checks.</summary>
internal sealed class DaemonSetStrategy : ResourceStrategy<V1DaemonSet>
{
    private static readonly IReadOnlyList<TableColumn<V1DaemonSet>> Table =
    [
        Columns.Name<V1DaemonSet>(),
        new("Desired", "integer", 0, (d, _) => d.Status?.DesiredNumberScheduled ?? 0, "", "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod)."),
        new("Current", "integer", 0, (d, _) => d.Status?.CurrentNumberScheduled ?? 0, "", "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod."),
        new("Ready", "integer", 0, (d, _) => d.Status?.NumberReady ?? 0, "", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition."),
        new("Up-to-date", "integer", 0, (d, _) => d.Status?.UpdatedNumberScheduled ?? 0, "", "The total number of nodes that are running updated daemon pod"),
        new("Available", "integer", 0, (d, _) => d.Status?.NumberAvailable ?? 0, "", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)"),
        new("Node Selector", "string", 0, (d, _) => Columns.Selector(d.Spec?.Template?.Spec?.NodeSelector), "", "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node."),
        Columns.Age<V1DaemonSet>(),
        new("Containers", "string", 1, (d, _) => WorkloadRules.Containers(d.Spec?.Template), "", "Names of each container in the template."),
        new("Images", "string", 1, (d, _) => WorkloadRules.Images(d.Spec?.Template), "", "Images referenced by each container in the template."),
        new("Selector", "string", 1, (d, _) => Columns.Selector(d.Spec?.Selector), "", "A label query over pods that are managed by the daemon set."),
    ];

    public override IReadOnlyList<TableColumn<V1DaemonSet>> TableColumns => Table;

    public override void Default(V1DaemonSet obj)
    {
        var spec = obj.Spec ??= new V1DaemonSetSpec();
        spec.UpdateStrategy ??= new V1DaemonSetUpdateStrategy();
        spec.UpdateStrategy.Type ??= "RollingUpdate";
        if (spec.UpdateStrategy.Type == "RollingUpdate")
        {
            spec.UpdateStrategy.RollingUpdate ??= new V1RollingUpdateDaemonSet();
            spec.UpdateStrategy.RollingUpdate.MaxUnavailable ??= 1;
            spec.UpdateStrategy.RollingUpdate.MaxSurge ??= 0;
        }

        spec.RevisionHistoryLimit ??= 10;
        spec.Template ??= new V1PodTemplateSpec();
        spec.Template.Spec ??= new V1PodSpec();
        PodSpecRules.Default(spec.Template.Spec);
    }

    public override IEnumerable<FieldError> Validate(V1DaemonSet obj)
    {
        var spec = obj.Spec;
        foreach (var error in WorkloadRules.Validate(spec?.Selector, spec?.Template, replicas: null))
        {
            yield return error;
        }

        var strategy = spec?.UpdateStrategy;
        if (strategy?.Type is not ("RollingUpdate" or "OnDelete"))
        {
            yield return FieldError.NotSupported("spec.updateStrategy.type", strategy?.Type, "OnDelete", "RollingUpdate");
            yield break;
        }

        if (strategy.RollingUpdate is { } rolling)
        {
            bool unavailableZero = IsZero(rolling.MaxUnavailable);
            if (unavailableZero && IsZero(rolling.MaxSurge))
            {
                yield return FieldError.Invalid("spec.updateStrategy.rollingUpdate.maxUnavailable", new LiteralValue(rolling.MaxUnavailable?.Value ?? "0"), "may not be 0 when `maxSurge` is 0");
            }

            foreach (var (field, value) in new[] { ("maxUnavailable", rolling.MaxUnavailable), ("maxSurge", rolling.MaxSurge) })
            {
                if (!WorkloadRules.IsIntOrPercent(value?.Value))
                {
                    yield return FieldError.Invalid("spec.updateStrategy.rollingUpdate." + field, new LiteralValue(value?.Value ?? ""), "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
                }
            }
        }
    }

    public override IEnumerable<FieldError> ValidateUpdate(V1DaemonSet obj, V1DaemonSet old)
    {
        foreach (var error in Validate(obj))
        {
            yield return error;
        }

        if (old.Spec?.Selector is { } before && !ModelJson.SemanticallyEqual(before, obj.Spec?.Selector))
        {
            yield return FieldError.Invalid("spec.selector", new LiteralValue(Columns.Selector(obj.Spec?.Selector)), "field is immutable");
        }
    }

    private static bool IsZero(IntOrString? value) => value?.Value is null or "0" or "0%";
}
