using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;

namespace Switchboard.ApiServer.Kinds;

/// <summary>ConfigMaps: keys must be valid file names.</summary>
internal sealed class ConfigMapStrategy : ResourceStrategy<V1ConfigMap>
{
    private static readonly IReadOnlyList<TableColumn<V1ConfigMap>> Table =
    [
        Columns.Name<V1ConfigMap>(),
        new("Data", "integer", 0, (c, _) => (c.Data?.Count ?? 0) + (c.BinaryData?.Count ?? 0), "", "Number of data items"),
        Columns.Age<V1ConfigMap>(),
    ];

    public override IReadOnlyList<TableColumn<V1ConfigMap>> TableColumns => Table;

    public override IEnumerable<FieldError> Validate(V1ConfigMap obj)
    {
        foreach (string key in (obj.Data?.Keys ?? []).Concat(obj.BinaryData?.Keys ?? []))
        {
            if (key.Length == 0 || key.Length > 253 || key is "." or ".." || key.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            {
                yield return FieldError.Invalid("data", key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
            }
        }
    }
}
