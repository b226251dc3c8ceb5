using System.Text.Json.Nodes;
using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Patch;

/// <summary>
/// Strategic merge patch for the built-in kinds: like a merge patch, but lists with a merge key (containers by
/// name, container ports by containerPort, service ports by port, …) merge item by item, metadata.finalizers
/// merge as a set, and the directives <c>$patch</c>, <c>$retainKeys</c>, <c>$setElementOrder/…</c> and
/// <c>$deleteFromPrimitiveList/…</c> are honoured (the patch metadata of k8s.io/api's struct tags).
/// </summary>
internal static class StrategicMergePatch
{
    private const string SetElementOrder = "$setElementOrder/";
    private const string DeleteFromPrimitiveList = "$deleteFromPrimitiveList/";

    public static JsonNode? Apply(JsonNode? target, JsonNode? patch) => Merge(target, patch, "");

    /// <summary>The merge key of the list at <paramref name="field"/> whose parent field is <paramref name="parent"/>, or null if it is replaced whole.</summary>
    public static string? MergeKey(string parent, string field) => field switch
    {
        "containers" or "initContainers" or "ephemeralContainers" or "env" or "volumes" or "imagePullSecrets"
            or "resourceClaims" or "schedulingGates" or "containerStatuses" or "initContainerStatuses" => "name",
        "ports" when parent is "containers" or "initContainers" or "ephemeralContainers" => "containerPort",
        "ports" when parent == "spec" => "port",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "conditions" or "addresses" when parent == "status" => "type",
        "ownerReferences" => "uid",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        "podIPs" or "hostIPs" => "ip",
        _ => null,
    };

    private static bool MergesAsSet(string parent, string field) => field == "finalizers" && parent == "metadata";

    private static JsonNode? Merge(JsonNode? target, JsonNode? patch, string parentField)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        if (patchObject["$patch"]?.GetValue<string>() is { } directive)
        {
            switch (directive)
            {
                case "replace":
                    var replacement = patchObject.DeepClone().AsObject();
                    replacement.Remove("$patch");
                    return replacement;
                case "delete":
                    return null;
                case "merge":
                    break;
                default:
                    throw ApiException.BadRequest($"Unknown patch type: {directive}");
            }
        }

        var result = target is JsonObject targetObject ? targetObject.DeepClone().AsObject() : new JsonObject();
        if (patchObject["$retainKeys"] is JsonArray retain)
        {
            var keep = retain.Select(k => k?.GetValue<string>()).ToHashSet();
            foreach (string key in result.Select(p => p.Key).ToList())
            {
                if (!keep.Contains(key))
                {
                    result.Remove(key);
                }
            }
        }

        foreach (var (key, value) in patchObject)
        {
            if (key is "$patch" or "$retainKeys" || key.StartsWith(SetElementOrder, StringComparison.Ordinal))
            {
                continue;
            }

            if (key.StartsWith(DeleteFromPrimitiveList, StringComparison.Ordinal))
            {
                string field = key[DeleteFromPrimitiveList.Length..];
                if (result[field] is JsonArray list && value is JsonArray remove)
                {
                    result[field] = new JsonArray([.. list.Where(i => !remove.Any(r => JsonNode.DeepEquals(r, i))).Select(i => i?.DeepClone())]);
                }

                continue;
            }

            if (value is null)
            {
                result.Remove(key);
                continue;
            }

            JsonNode? merged;
            if (value is JsonArray patchList)
            {
                merged = MergeList(result[key] as JsonArray, patchList, parentField, key);
            }
            else
            {
                merged = Merge(result[key], value, key);
            }

            if (merged is null && value is JsonObject)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = merged;
            }

            if (patchObject[SetElementOrder + key] is JsonArray order && result[key] is JsonArray ordered)
            {
                result[key] = Reorder(ordered, order, MergeKey(parentField, key));
            }
        }

        return result;
    }

    private static JsonArray MergeList(JsonArray? current, JsonArray patch, string parentField, string field)
    {
        if (MergesAsSet(parentField, field))
        {
            var set = new JsonArray([.. (current ?? []).Select(i => i?.DeepClone())]);
            foreach (var item in patch)
            {
                if (!set.Any(i => JsonNode.DeepEquals(i, item)))
                {
                    set.Add(item?.DeepClone());
                }
            }

            return set;
        }

        string? mergeKey = MergeKey(parentField, field);
        if (mergeKey is null || current is null)
        {
            return new JsonArray([.. patch.Where(i => i is not JsonObject o || o["$patch"] is null).Select(i => StripDirectives(i?.DeepClone()))]);
        }

        var items = current.Select(i => i?.DeepClone()).ToList();
        foreach (var item in patch)
        {
            if (item is not JsonObject patchItem)
            {
                continue;
            }

            var key = patchItem[mergeKey];
            int at = items.FindIndex(i => i is JsonObject o && JsonNode.DeepEquals(o[mergeKey], key));
            if (patchItem["$patch"]?.GetValue<string>() == "delete")
            {
                if (at >= 0)
                {
                    items.RemoveAt(at);
                }

                continue;
            }

            if (at >= 0)
            {
                items[at] = Merge(items[at], patchItem, field);
            }
            else
            {
                items.Add(StripDirectives(patchItem.DeepClone()));
            }
        }

        return new JsonArray([.. items]);
    }

    private static JsonArray Reorder(JsonArray list, JsonArray order, string? mergeKey)
    {
        int Position(JsonNode? item)
        {
            for (int i = 0; i < order.Count; i++)
            {
                var wanted = order[i];
                bool same = mergeKey is not null && item is JsonObject o && wanted is JsonObject w
                    ? JsonNode.DeepEquals(o[mergeKey], w[mergeKey])
                    : JsonNode.DeepEquals(item, wanted);
                if (same)
                {
                    return i;
                }
            }

            return int.MaxValue;
        }

        return new JsonArray([.. list.Select((item, index) => (item, index)).OrderBy(p => Position(p.item)).ThenBy(p => p.index).Select(p => p.item?.DeepClone())]);
    }

    private static JsonNode? StripDirectives(JsonNode? node)
    {
        if (node is JsonObject o)
        {
            foreach (string key in o.Select(p => p.Key).Where(k => k.StartsWith('$')).ToList())
            {
                o.Remove(key);
            }

            foreach (var (_, child) in o.ToList())
            {
                StripDirectives(child);
            }
        }
        else if (node is JsonArray a)
        {
            foreach (var child in a)
            {
                StripDirectives(child);
            }
        }

        return node;
    }
}
