using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Kinds;

/// <summary>apps/v1 Deployments: defaults of pkg/apis/apps/v1 and a selector matching the template.</summary>
internal sealed class DeploymentStrategy : ResourceStrategy<V1Deployment>
{
    private static readonly IReadOnlyList<TableColumn<V1Deployment>> Table =
    [
        Columns.Name<V1Deployment>(),
        new("Ready", "string", 0, (d, _) => $"{d.Status?.ReadyReplicas ?? 0}/{d.Spec?.Replicas ?? 0}", "", "Number of the pod with ready state"),
        new("Up-to-date", "integer", 0, (d, _) => d.Status?.UpdatedReplicas ?? 0, "", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
        new("Available", "integer", 0, (d, _) => d.Status?.AvailableReplicas ?? 0, "", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
        Columns.Age<V1Deployment>(),
        new("Containers", "string", 1, (d, _) => WorkloadRules.Containers(d.Spec?.Template), "", "Names of each container in the template."),
        new("Images", "string", 1, (d, _) => WorkloadRules.Images(d.Spec?.Template), "", "Images referenced by each container in the template."),
        new("Selector", "string", 1, (d, _) => Columns.Selector(d.Spec?.Selector), "", "Label selector for pods."),
    ];

    public override IReadOnlyList<TableColumn<V1Deployment>> TableColumns => Table;

    public override void Default(V1Deployment obj)
    {
        var spec = obj.Spec ??= new V1DeploymentSpec();
        spec.Replicas ??= 1;
        spec.Strategy ??= new V1DeploymentStrategy();
        spec.Strategy.Type ??= "RollingUpdate";
        if (spec.Strategy.Type == "RollingUpdate")
        {
            spec.Strategy.RollingUpdate ??= new V1RollingUpdateDeployment();
            spec.Strategy.RollingUpdate.MaxUnavailable ??= "25%";
            spec.Strategy.RollingUpdate.MaxSurge ??= "25%";
        }

        spec.RevisionHistoryLimit ??= 10;
        spec.ProgressDeadlineSeconds ??= 600;
        spec.Template ??= new V1PodTemplateSpec();
        spec.Template.Spec ??= new V1PodSpec();
        PodSpecRules.Default(spec.Template.Spec);
    }

    public override IEnumerable<FieldError> Validate(V1Deployment obj) =>
        WorkloadRules.Validate(obj.Spec?.Selector, obj.Spec?.Template, obj.Spec?.Replicas);

    public override IEnumerable<FieldError> ValidateUpdate(V1Deployment obj, V1Deployment old)
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
}
