using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// apps/v1 ControllerRevisions: the immutable snapshots of a StatefulSet's or DaemonSet's template that
/// <c>kubectl rollout history</c> and <c>undo</c> read; only the revision number may change.
/// </summary>
internal sealed class ControllerRevisionStrategy : ResourceStrategy<V1ControllerRevision>
{
    private static readonly IReadOnlyList<TableColumn<V1ControllerRevision>> Table =
    [
        Columns.Name<V1ControllerRevision>(),
        new("Controller", "string", 0, (r, _) => Controller(r), "", "Controller of the object, with the format <kind>/<name>"),
        new("Revision", "integer", 0, (r, _) => r.Revision, "", "The revision number this ControllerRevision represents."),
        Columns.Age<V1ControllerRevision>(),
    ];

    public override IReadOnlyList<TableColumn<V1ControllerRevision>> TableColumns => Table;

    public override IEnumerable<FieldError> Validate(V1ControllerRevision obj)
    {
        if (obj.Revision < 0)
        {
            yield return FieldError.Invalid("revision", obj.Revision, "must be greater than or equal to 0");
        }
    }

    public override IEnumerable<FieldError> ValidateUpdate(V1ControllerRevision obj, V1ControllerRevision old)
    {
        foreach (var error in Validate(obj))
        {
            yield return error;
        }

        if (!ModelJson.SemanticallyEqual(ModelJson.ToNode(obj.Data), ModelJson.ToNode(old.Data)))
        {
            yield return FieldError.Invalid("data", new LiteralValue("{...}"), "field is immutable");
        }
    }

    private static string Controller(V1ControllerRevision revision) =>
        revision.Metadata.OwnerReferences?.FirstOrDefault(r => r.Controller == true) is { } owner ? $"{owner.Kind.ToLowerInvariant()}.{owner.ApiVersion.Split('/')[0]}/{owner.Name}" : "<none>";
}
