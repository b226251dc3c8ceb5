using System.Text.Json.Nodes;
using Switchboard.ApiServer.OpenApi;

namespace Switchboard.ApiServer.Apply;

/// <summary>
/// An object's JSON walked by <see cref="FieldPath"/>, and the schema-driven merge of an applied configuration into it
/// (structured-merge-diff's merge): structs and maps merge field by field, keyed lists item by item on their keys,
/// sets as a union, atomic lists and structs are replaced whole.
/// </summary>
internal static class ObjectFields
{
    /// <summary>The value at <paramref name="path"/>, and whether it is there.</summary>
    public static (bool Found, JsonNode? Value) At(JsonNode? root, FieldPath path)
    {
        JsonNode? node = root;
        foreach (string element in path.Elements)
        {
            switch (node)
            {
                case JsonObject obj when element[0] == 'f' && obj.TryGetPropertyValue(element[2..], out var child):
                    node = child;
                    break;
                case JsonArray list when ItemIndex(list, element) is int index and >= 0:
                    node = list[index];
                    break;
                default:
                    return (false, null);
            }
        }

        return (true, node);
    }

    /// <summary>Removes the field or item at <paramref name="path"/> if it is there.</summary>
    public static void Remove(JsonNode root, FieldPath path)
    {
        if (path.Elements.Length == 0)
        {
            return;
        }

        var (found, parent) = At(root, new FieldPath(path.Elements[..^1]));
        string last = path.Elements[^1];
        if (!found)
        {
            return;
        }

        switch (parent)
        {
            case JsonObject obj when last[0] == 'f':
                obj.Remove(last[2..]);
                break;
            case JsonArray list when ItemIndex(list, last) is int index and >= 0:
                list.RemoveAt(index);
                break;
        }
    }

    /// <summary><paramref name="applied"/> merged into a copy of <paramref name="live"/>, as the kind's schema says.</summary>
    public static JsonObject Merge(JsonObject live, JsonObject applied, ModelShape shape) =>
        (JsonObject)MergeStruct(live, applied, shape);

    private static JsonNode MergeStruct(JsonObject live, JsonObject applied, ModelShape shape)
    {
        var result = live.DeepClone().AsObject();
        foreach (var (name, value) in applied)
        {
            result[name] = shape.Fields.TryGetValue(name, out var field)
                ? MergeField(live[name], value, field)
                : value?.DeepClone();
        }

        return result;
    }

    private static JsonNode? MergeField(JsonNode? live, JsonNode? applied, FieldShape field)
    {
        var shape = field.Shape;
        if (shape.Kind == ShapeKind.List && live is JsonArray liveList && applied is JsonArray appliedList && field.ListType != ListType.Atomic)
        {
            var result = liveList.DeepClone().AsArray();
            foreach (var item in appliedList)
            {
                string element = field.ListType == ListType.Map && item is JsonObject keyed ? FieldPath.Key(keyed, field.MapKeys) : FieldPath.Value(item);
                int index = ItemIndex(result, element);
                if (index < 0)
                {
                    result.Add(item?.DeepClone());
                }
                else if (field.ListType == ListType.Map && result[index] is JsonObject liveItem && item is JsonObject appliedItem)
                {
                    result[index] = MergeStruct(liveItem, appliedItem, shape.Element);
                }
            }

            return result;
        }

        return MergeValue(live, applied, shape);
    }

    private static JsonNode? MergeValue(JsonNode? live, JsonNode? applied, ModelShape shape)
    {
        switch (shape.Kind)
        {
            case ShapeKind.Struct when !shape.AtomicStruct && live is JsonObject liveStruct && applied is JsonObject appliedStruct:
                return MergeStruct(liveStruct, appliedStruct, shape);
            case ShapeKind.Map when live is JsonObject liveMap && applied is JsonObject appliedMap:
                var result = liveMap.DeepClone().AsObject();
                foreach (var (key, value) in appliedMap)
                {
                    result[key] = MergeValue(liveMap[key], value, shape.Element);
                }

                return result;
            default:
                return applied?.DeepClone();
        }
    }

    /// <summary>The index of the list item an element names (k:, v: or i:), or -1.</summary>
    private static int ItemIndex(JsonArray list, string element)
    {
        switch (element[0])
        {
            case 'k':
                var keys = ((JsonObject)JsonNode.Parse(element[2..])!).Select(p => p.Key).ToList();
                for (int i = 0; i < list.Count; i++)
                {
                    if (list[i] is JsonObject item && FieldPath.Key(item, keys) == element)
                    {
                        return i;
                    }
                }

                return -1;
            case 'v':
                for (int i = 0; i < list.Count; i++)
                {
                    if (FieldPath.Value(list[i]) == element)
                    {
                        return i;
                    }
                }

                return -1;
            case 'i':
                int index = FieldPath.Index(element);
                return index < list.Count ? index : -1;
            default:
                return -1;
        }
    }
}
