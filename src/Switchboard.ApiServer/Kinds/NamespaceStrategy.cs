using k8s.Models;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.ApiServer.Validation;

namespace Switchboard.ApiServer.Kinds;

/// <summary>Namespaces: the name label, phase Active, and deletion through Terminating with the kubernetes finalizer.</summary>
internal sealed class NamespaceStrategy : ResourceStrategy<V1Namespace>
{
    public const string KubernetesFinalizer = "kubernetes";

    private static readonly IReadOnlyList<TableColumn<V1Namespace>> Table =
    [
        Columns.Name<V1Namespace>(),
        new("Status", "string", 0, (n, _) => n.Status?.Phase, "", "The status of the namespace"),
        Columns.Age<V1Namespace>(),
    ];

    public override NameRule NameRule => NameRule.Label;

    public override IReadOnlyList<TableColumn<V1Namespace>> TableColumns => Table;

    public override IReadOnlyDictionary<string, Func<V1Namespace, string?>> SelectableFields { get; } =
        new Dictionary<string, Func<V1Namespace, string?>> { ["status.phase"] = n => n.Status?.Phase };

    public override void Default(V1Namespace obj)
    {
        obj.Metadata.Labels ??= new Dictionary<string, string>();
        obj.Metadata.Labels["kubernetes.io/metadata.name"] = obj.Metadata.Name;
    }

    public override Task PrepareCreateAsync(V1Namespace obj, bool dryRun, CancellationToken cancellationToken)
    {
        obj.Spec = new V1NamespaceSpec { Finalizers = [KubernetesFinalizer] };
        obj.Status = new V1NamespaceStatus { Phase = "Active" };
        return Task.CompletedTask;
    }

    public override bool DeletesGracefully(V1Namespace obj, long? gracePeriodSeconds) => true;

    public override void MarkDeleting(V1Namespace obj)
    {
        obj.Status ??= new V1NamespaceStatus();
        obj.Status.Phase = "Terminating";
    }

    public override bool FinalizersDone(V1Namespace obj) =>
        base.FinalizersDone(obj) && (obj.Spec?.Finalizers is null || obj.Spec.Finalizers.Count == 0);
}
