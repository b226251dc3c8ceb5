using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Tables;

/// <summary>Renders objects as a meta.k8s.io/v1 Table, the server-side printing kubectl get asks for.</summary>
internal static class TableWriter
{
    /// <summary>Whether the Accept header asks for a Table (as=Table;g=meta.k8s.io).</summary>
    public static bool IsRequested(string? accept) =>
        accept is not null && accept.Contains("as=Table", StringComparison.Ordinal) && accept.Contains("g=meta.k8s.io", StringComparison.Ordinal);

    public static JsonObject Build<T>(IReadOnlyList<TableColumn<T>> columns, IEnumerable<T> items, DateTimeOffset now, string? includeObject, string? resourceVersion, string? continueToken, bool withHeaders)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var metadata = new JsonObject();
        if (resourceVersion is not null)
        {
            metadata["resourceVersion"] = resourceVersion;
        }

        if (continueToken is not null)
        {
            metadata["continue"] = continueToken;
        }

        var table = new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = metadata,
        };
        if (withHeaders)
        {
            table["columnDefinitions"] = new JsonArray([.. columns.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["format"] = c.Format,
                ["description"] = c.Description,
                ["priority"] = c.Priority,
            })]);
        }

        var rows = new JsonArray();
        foreach (var item in items)
        {
            var cells = new JsonArray([.. columns.Select(c => CellValue(c.Cell(item, now)))]);
            var row = new JsonObject { ["cells"] = cells };
            switch (includeObject)
            {
                case "None":
                    break;
                case "Object":
                    row["object"] = ModelJson.ToNode(item);
                    break;
                default:
                    row["object"] = new JsonObject
                    {
                        ["kind"] = "PartialObjectMetadata",
                        ["apiVersion"] = "meta.k8s.io/v1",
                        ["metadata"] = ModelJson.ToNode(item.Metadata),
                    };
                    break;
            }

            rows.Add((JsonNode)row);
        }

        table["rows"] = rows;
        return table;
    }

    /// <summary>A cell as JSON: the columns' types are string, integer, boolean and date (a string).</summary>
    private static JsonNode? CellValue(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        bool b => JsonValue.Create(b),
        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };
}
