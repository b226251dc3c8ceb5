using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Kinds;

/// <summary>ConfigMaps: keys must be valid file names; an immutable one keeps its data.</summary>
internal sealed class ConfigMapStrategy : ResourceStrategy<V1ConfigMap>
{
    private static readonly IReadOnlyList<TableColumn<V1ConfigMap>> Table =
    [
        Columns.Name<V1ConfigMap>(),
        new("Data", "integer", 0, (c, _) => (c.Data?.Count ?? 0) + (c.BinaryData?.Count ?? 0), "", "Number of data items"),
        Columns.Age<V1ConfigMap>(),
    ];

    public override IReadOnlyList<TableColumn<V1ConfigMap>> TableColumns => Table;

    public override IEnumerable<FieldError> Validate(V1ConfigMap obj) =>
        ConfigKeys.Validate("data", obj.Data?.Keys ?? []).Concat(ConfigKeys.Validate("binaryData", obj.BinaryData?.Keys ?? []));

    public override IEnumerable<FieldError> ValidateUpdate(V1ConfigMap obj, V1ConfigMap old) =>
        Validate(obj).Concat(ConfigKeys.ValidateImmutable(
            old.Immutable, obj.Immutable, !ModelJson.SameContent(obj.Data, old.Data) || !ModelJson.SameContent(obj.BinaryData, old.BinaryData)));
}
