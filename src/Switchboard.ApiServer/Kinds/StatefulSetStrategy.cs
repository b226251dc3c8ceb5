using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// apps/v1 StatefulSets: upstream's defaults and checks, with one refusal of our own: volumeClaimTemplates need a
/// storage provisioner, which this cluster has not, so a template is refused by name instead of leaving pods Pending.
/// </summary>
internal sealed class StatefulSetStrategy : ResourceStrategy<V1StatefulSet>
{
    private static readonly IReadOnlyList<TableColumn<V1StatefulSet>> Table =
    [
        Columns.Name<V1StatefulSet>(),
        new("Ready", "string", 0, (s, _) => $"{s.Status?.ReadyReplicas ?? 0}/{s.Spec?.Replicas ?? 0}", "", "Number of the pod with ready state"),
        Columns.Age<V1StatefulSet>(),
        new("Containers", "string", 1, (s, _) => WorkloadRules.Containers(s.Spec?.Template), "", "Names of each container in the template."),
        new("Images", "string", 1, (s, _) => WorkloadRules.Images(s.Spec?.Template), "", "Images referenced by each container in the template."),
    ];

    public override IReadOnlyList<TableColumn<V1StatefulSet>> TableColumns => Table;

    public override void Default(V1StatefulSet obj)
    {
        var spec = obj.Spec ??= new V1StatefulSetSpec();
        spec.Replicas ??= 1;
        spec.PodManagementPolicy ??= "OrderedReady";
        spec.UpdateStrategy ??= new V1StatefulSetUpdateStrategy();
        spec.UpdateStrategy.Type ??= "RollingUpdate";
        if (spec.UpdateStrategy.Type == "RollingUpdate")
        {
            spec.UpdateStrategy.RollingUpdate ??= new V1RollingUpdateStatefulSetStrategy();
            spec.UpdateStrategy.RollingUpdate.Partition ??= 0;
        }

        spec.RevisionHistoryLimit ??= 10;
        spec.PersistentVolumeClaimRetentionPolicy ??= new V1StatefulSetPersistentVolumeClaimRetentionPolicy();
        spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted ??= "Retain";
        spec.PersistentVolumeClaimRetentionPolicy.WhenScaled ??= "Retain";
        spec.Template ??= new V1PodTemplateSpec();
        spec.Template.Spec ??= new V1PodSpec();
        PodSpecRules.Default(spec.Template.Spec);
    }

    public override IEnumerable<FieldError> Validate(V1StatefulSet obj)
    {
        var spec = obj.Spec;
        foreach (var error in WorkloadRules.Validate(spec?.Selector, spec?.Template, spec?.Replicas))
        {
            yield return error;
        }

        if (spec?.VolumeClaimTemplates is { Count: > 0 })
        {
            yield return FieldError.Forbidden("spec.volumeClaimTemplates", "this cluster has no storage provisioner to bind PersistentVolumeClaims; use emptyDir or hostPath volumes in spec.template instead");
        }

        if (spec?.PodManagementPolicy is not ("OrderedReady" or "Parallel"))
        {
            yield return FieldError.NotSupported("spec.podManagementPolicy", spec?.PodManagementPolicy, "OrderedReady", "Parallel");
        }

        var strategy = spec?.UpdateStrategy;
        if (strategy?.Type is not ("RollingUpdate" or "OnDelete"))
        {
            yield return FieldError.NotSupported("spec.updateStrategy.type", strategy?.Type, "OnDelete", "RollingUpdate");
        }
        else if (strategy.Type == "OnDelete" && strategy.RollingUpdate is not null)
        {
            yield return FieldError.Invalid("spec.updateStrategy.rollingUpdate", new LiteralValue("rollingUpdate"), "only allowed for updateStrategy 'RollingUpdate'");
        }
        else if (strategy.RollingUpdate?.Partition is < 0 and var partition)
        {
            yield return FieldError.Invalid("spec.updateStrategy.rollingUpdate.partition", partition, "must be greater than or equal to 0");
        }

        if (spec?.Ordinals?.Start is < 0 and var start)
        {
            yield return FieldError.Invalid("spec.ordinals.start", start, "must be greater than or equal to 0");
        }

        if (spec?.MinReadySeconds is < 0 and var minReady)
        {
            yield return FieldError.Invalid("spec.minReadySeconds", minReady, "must be greater than or equal to 0");
        }

        if (spec?.PersistentVolumeClaimRetentionPolicy is { } retention)
        {
            if (retention.WhenDeleted is not ("Retain" or "Delete"))
            {
                yield return FieldError.NotSupported("spec.persistentVolumeClaimRetentionPolicy.whenDeleted", retention.WhenDeleted, "Retain", "Delete");
            }

            if (retention.WhenScaled is not ("Retain" or "Delete"))
            {
                yield return FieldError.NotSupported("spec.persistentVolumeClaimRetentionPolicy.whenScaled", retention.WhenScaled, "Retain", "Delete");
            }
        }
    }

    public override IEnumerable<FieldError> ValidateUpdate(V1StatefulSet obj, V1StatefulSet old)
    {
        foreach (var error in Validate(obj))
        {
            yield return error;
        }

        if (!ModelJson.SemanticallyEqual(Immutable(obj.Spec), Immutable(old.Spec)))
        {
            yield return FieldError.Forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
        }
    }

    /// <summary>The spec without the fields an update may change.</summary>
    private static V1StatefulSetSpec? Immutable(V1StatefulSetSpec? spec)
    {
        if (spec is null)
        {
            return null;
        }

        var copy = ModelJson.Clone(spec);
        copy.Replicas = null;
        copy.Ordinals = null;
        copy.Template = null;
        copy.UpdateStrategy = null;
        copy.RevisionHistoryLimit = null;
        copy.PersistentVolumeClaimRetentionPolicy = null;
        copy.MinReadySeconds = null;
        return copy;
    }
}
