using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Switchboard.Kube.Serialization;

namespace Switchboard.Controllers.Shared;

/// <summary>JSON the controllers build over the Kubernetes model's serializer: a canonical text to hash, patches.</summary>
internal static class Json
{
    /// <summary>The object as JSON with object keys sorted and nulls dropped, so equal content gives equal text.</summary>
    public static string Canonical(object? obj) =>
        obj is null ? "null" : Sort(ModelJson.ToNode(obj))?.ToJsonString() ?? "null";

    /// <summary>A model value as a JSON node, for building merge patches.</summary>
    public static JsonNode? Node(object? value) => value is null ? null : ModelJson.ToNode(value);

    /// <summary>
    /// A merge patch setting one list of <paramref name="obj"/>'s metadata (an empty list removes the field), with the
    /// object's resourceVersion as precondition.
    /// </summary>
    public static JsonObject MetadataListPatch<TItem>(IKubernetesObject<V1ObjectMeta> obj, string field, IReadOnlyCollection<TItem> items) => new()
    {
        ["metadata"] = new JsonObject
        {
            [field] = items.Count == 0 ? null : Node(items),
            ["resourceVersion"] = obj.Metadata.ResourceVersion,
        },
    };

    private static JsonNode? Sort(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.Where(p => p.Value is not null).OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Sort(p.Value)))),
        JsonArray array => new JsonArray([.. array.Select(Sort)]),
        null => null,
        _ => node.DeepClone(),
    };
}
