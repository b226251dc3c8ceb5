using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;

namespace Switchboard.ApiServer.Kinds;

/// <summary>apps/v1 ReplicaSets.</summary>
internal sealed class ReplicaSetStrategy : ResourceStrategy<V1ReplicaSet>
{
    private static readonly IReadOnlyList<TableColumn<V1ReplicaSet>> Table =
    [
        Columns.Name<V1ReplicaSet>(),
        new("Desired", "integer", 0, (r, _) => r.Spec?.Replicas ?? 0, "", "Number of desired pods."),
        new("Current", "integer", 0, (r, _) => r.Status?.Replicas ?? 0, "", "Number of actual pods."),
        new("Ready", "integer", 0, (r, _) => r.Status?.ReadyReplicas ?? 0, "", "Number of ready pods."),
        Columns.Age<V1ReplicaSet>(),
        new("Containers", "string", 1, (r, _) => WorkloadRules.Containers(r.Spec?.Template), "", "Names of each container in the template."),
        new("Images", "string", 1, (r, _) => WorkloadRules.Images(r.Spec?.Template), "", "Images referenced by each container in the template."),
        new("Selector", "string", 1, (r, _) => Columns.Selector(r.Spec?.Selector), "", "Label selector for pods."),
    ];

    public override IReadOnlyList<TableColumn<V1ReplicaSet>> TableColumns => Table;

    public override void Default(V1ReplicaSet obj)
    {
        var spec = obj.Spec ??= new V1ReplicaSetSpec();
        spec.Replicas ??= 1;
        spec.Template ??= new V1PodTemplateSpec();
        spec.Template.Spec ??= new V1PodSpec();
        PodSpecRules.Default(spec.Template.Spec);
    }

    public override IEnumerable<FieldError> Validate(V1ReplicaSet obj) =>
        WorkloadRules.Validate(obj.Spec?.Selector, obj.Spec?.Template, obj.Spec?.Replicas);
}
