using System.Globalization;
using System.Text.Json.Nodes;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Requests;

namespace Switchboard.ApiServer.Patch;

/// <summary>
/// RFC 6902 JSON patch: add, remove, replace, move, copy and test on JSON pointers, held to kube-apiserver's bounds on
/// what one small patch may build: at most 10,000 operations (413), copies adding at most 3 MiB in all (422, its
/// JSONPatchMaxCopyBytes, so copying <c>/spec</c> into itself doubles it only until then), and no value placed deeper
/// than <see cref="RequestLimits.MaxDepth"/> (what any body may nest), so nothing after the patch recurses without bound.
/// </summary>
internal static class JsonPatch
{
    /// <summary>kube-apiserver's maxJSONPatchOperations.</summary>
    public const int MaxOperations = 10_000;

    /// <summary>The total bytes copy operations may add: kube-apiserver's JSONPatchMaxCopyBytes, its request body limit.</summary>
    public const long MaxCopyBytes = RequestLimits.MaxBytes;

    public static JsonNode Apply(JsonNode document, JsonNode? patch)
    {
        if (patch is not JsonArray operations)
        {
            throw ApiException.BadRequest("json patch must be a JSON array of operations");
        }

        if (operations.Count > MaxOperations)
        {
            throw ApiException.RequestEntityTooLarge($"The allowed maximum operations in a JSON patch is {MaxOperations}, got {operations.Count}");
        }

        var root = new JsonObject { ["doc"] = document.DeepClone() };
        long copied = 0;
        foreach (var operation in operations)
        {
            if (operation is not JsonObject op || op["op"]?.GetValue<string>() is not { } name || op["path"]?.GetValue<string>() is not { } path)
            {
                throw ApiException.BadRequest("json patch operation needs 'op' and 'path'");
            }

            switch (name)
            {
                case "add":
                    Add(root, path, op["value"]?.DeepClone());
                    break;
                case "remove":
                    Remove(root, path);
                    break;
                case "replace":
                    Remove(root, path);
                    Add(root, path, op["value"]?.DeepClone());
                    break;
                case "move":
                    var moved = Remove(root, From(op));
                    Add(root, path, moved);
                    break;
                case "copy":
                    var copy = Get(root, From(op))?.DeepClone();
                    copied += copy?.ToJsonString().Length ?? 4;
                    if (copied > MaxCopyBytes)
                    {
                        throw ApiException.Unprocessable($"Unable to complete the copy, the accumulated size increase of copy is {copied}, exceeding the limit {MaxCopyBytes}");
                    }

                    Add(root, path, copy);
                    break;
                case "test":
                    if (!JsonNode.DeepEquals(Get(root, path), op["value"]))
                    {
                        throw ApiException.Invalid("JSONPatch", path, "", [FieldError.Invalid(path, op["value"]?.ToJsonString(), "testing value failed")]);
                    }

                    break;
                default:
                    throw ApiException.BadRequest($"unexpected json patch operation \"{name}\"");
            }
        }

        return root["doc"] ?? throw ApiException.BadRequest("json patch removed the whole document");
    }

    private static string From(JsonObject op) =>
        op["from"]?.GetValue<string>() ?? throw ApiException.BadRequest("json patch operation needs 'from'");

    private static (JsonNode Parent, string Key) Resolve(JsonObject root, string path)
    {
        if (path.Length > 0 && path[0] != '/')
        {
            throw ApiException.BadRequest($"json patch path \"{path}\" does not start with '/'");
        }

        string[] tokens = ["doc", .. path.Length == 0 ? [] : path[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal))];
        JsonNode parent = root;
        for (int i = 0; i < tokens.Length - 1; i++)
        {
            parent = Child(parent, tokens[i]) ?? throw ApiException.Invalid("JSONPatch", path, "", [FieldError.Invalid(path, path, "doc is missing path")]);
        }

        return (parent, tokens[^1]);
    }

    private static JsonNode? Child(JsonNode node, string token) => node switch
    {
        JsonObject o => o[token],
        JsonArray a when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < a.Count => a[i],
        _ => null,
    };

    private static JsonNode? Get(JsonObject root, string path)
    {
        var (parent, key) = Resolve(root, path);
        return Child(parent, key);
    }

    private static void Add(JsonObject root, string path, JsonNode? value)
    {
        var (parent, key) = Resolve(root, path);
        if (ParentDepth(path) + Depth(value) > RequestLimits.MaxDepth)
        {
            throw ApiException.Invalid("JSONPatch", path, "", [FieldError.Invalid(path, path, $"the patched object would nest deeper than {RequestLimits.MaxDepth} levels")]);
        }

        switch (parent)
        {
            case JsonObject o:
                o[key] = value;
                break;
            case JsonArray a when key == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw ApiException.Invalid("JSONPatch", path, "", [FieldError.Invalid(path, path, "add operation does not apply: doc is missing path")]);
        }
    }

    private static JsonNode? Remove(JsonObject root, string path)
    {
        var (parent, key) = Resolve(root, path);
        switch (parent)
        {
            case JsonObject o when o.ContainsKey(key):
                var value = o[key];
                o.Remove(key);
                return value;
            case JsonArray a when int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < a.Count:
                var item = a[i];
                a.RemoveAt(i);
                return item;
            default:
                throw ApiException.Invalid("JSONPatch", path, "", [FieldError.Invalid(path, path, "remove operation does not apply: doc is missing path")]);
        }
    }

    /// <summary>How deep in the document the parent of <paramref name="path"/>'s target is (the document itself is 1).</summary>
    private static int ParentDepth(string path) => path.AsSpan().Count('/');

    /// <summary>Objects and arrays from <paramref name="node"/> down to its deepest one (0 for a value), walked without recursion.</summary>
    private static int Depth(JsonNode? node)
    {
        int deepest = 0;
        var pending = new Stack<(JsonNode Node, int Depth)>();
        if (node is JsonObject or JsonArray)
        {
            pending.Push((node, 1));
        }

        while (pending.TryPop(out var next))
        {
            deepest = Math.Max(deepest, next.Depth);
            IEnumerable<JsonNode?> children = next.Node is JsonObject o ? o.Select(p => p.Value) : next.Node.AsArray();
            foreach (var child in children)
            {
                if (child is JsonObject or JsonArray)
                {
                    pending.Push((child, next.Depth + 1));
                }
            }
        }

        return deepest;
    }
}
