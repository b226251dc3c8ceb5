using System.Text.Json.Nodes;
using Switchboard.ApiServer.OpenApi;

namespace Switchboard.ApiServer.Apply;

/// <summary>
/// The fields a manager owns, as structured-merge-diff computes them from an object and its schema
/// (<see cref="ModelShape"/>): scalars, atomic lists and structs as a whole, every item of a keyed list or set, every
/// key of a free-form map; a struct holding fields is only a prefix. Reads and writes the FieldsV1 JSON of
/// metadata.managedFields, in its order (<c>.</c> first, then f, k, v, i).
/// </summary>
internal sealed class FieldSet
{
    /// <summary>Root fields upstream never tracks (apiVersion, kind, and the server's metadata).</summary>
    private static readonly HashSet<string> UntrackedMetadata = ["name", "namespace", "uid", "creationTimestamp", "selfLink", "generation", "managedFields", "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"];

    private readonly HashSet<FieldPath> _paths;

    public FieldSet(IEnumerable<FieldPath> paths) => _paths = [.. paths];

    public static FieldSet Empty => new([]);

    public int Count => _paths.Count;

    public IEnumerable<FieldPath> Paths => _paths;

    public bool Contains(FieldPath path) => _paths.Contains(path);

    public FieldSet Union(FieldSet other) => new(_paths.Concat(other._paths));

    public FieldSet Except(FieldSet other) => new(_paths.Where(p => !other._paths.Contains(p)));

    public FieldSet Intersect(FieldSet other) => new(_paths.Where(other._paths.Contains));

    /// <summary>The fields an object sets, for the kind whose model shape is <paramref name="shape"/>.</summary>
    public static FieldSet Of(JsonObject obj, ModelShape shape, bool includeStatus) => Of(obj, shape, includeStatus, out _);

    /// <summary>
    /// The fields an object sets, and the free-form maps holding some of them (labels, data): an Update that creates
    /// such a map owns the map itself too, as upstream records it (<c>.</c> under <c>f:labels</c>). With
    /// <paramref name="within"/>, only the top-level fields it accepts are read, and of metadata the fields it accepts as
    /// "metadata/NAME".
    /// </summary>
    public static FieldSet Of(JsonObject obj, ModelShape shape, bool includeStatus, out HashSet<FieldPath> maps, Func<string, bool>? within = null)
    {
        var paths = new List<FieldPath>();
        maps = [];
        foreach (var (name, value) in obj)
        {
            if (name is "apiVersion" or "kind" || (name == "status" && !includeStatus) || (name != "metadata" && within?.Invoke(name) == false))
            {
                continue;
            }

            var path = FieldPath.Root.Child(FieldPath.Field(name));
            if (name == "metadata" && value is JsonObject meta)
            {
                foreach (var (metaName, metaValue) in meta)
                {
                    if (!UntrackedMetadata.Contains(metaName) && within?.Invoke("metadata/" + metaName) != false
                        && shape.Fields["metadata"].Shape.Fields.TryGetValue(metaName, out var metaField))
                    {
                        CollectField(metaValue, metaField, path.Child(FieldPath.Field(metaName)), paths, maps);
                    }
                }

                continue;
            }

            if (shape.Fields.TryGetValue(name, out var field))
            {
                CollectField(value, field, path, paths, maps);
            }
            else
            {
                paths.Add(path);
            }
        }

        return new FieldSet(paths);
    }

    /// <summary>The paths of a FieldsV1 document.</summary>
    public static FieldSet FromFieldsV1(JsonNode? fields)
    {
        var paths = new List<FieldPath>();
        void Read(JsonObject node, FieldPath path)
        {
            foreach (var (element, child) in node)
            {
                if (element == ".")
                {
                    paths.Add(path);
                }
                else if (child is JsonObject { Count: > 0 } inner)
                {
                    Read(inner, path.Child(element));
                }
                else
                {
                    paths.Add(path.Child(element));
                }
            }
        }

        if (fields is JsonObject root)
        {
            Read(root, FieldPath.Root);
        }

        return new FieldSet(paths);
    }

    public JsonObject ToFieldsV1()
    {
        var tree = new Node();
        foreach (var path in _paths)
        {
            var node = tree;
            foreach (string element in path.Elements)
            {
                node = node.Children.TryGetValue(element, out var next) ? next : node.Children[element] = new Node();
            }

            node.Owned = true;
        }

        return tree.Render();
    }

    private static void CollectField(JsonNode? value, FieldShape field, FieldPath path, List<FieldPath> paths, HashSet<FieldPath> maps)
    {
        var shape = field.Shape;
        if (shape.Kind == ShapeKind.List && value is JsonArray { Count: > 0 } list && field.ListType != ListType.Atomic)
        {
            foreach (var item in list)
            {
                if (field.ListType == ListType.Set || item is not JsonObject itemObject)
                {
                    paths.Add(path.Child(FieldPath.Value(item)));
                    continue;
                }

                var itemPath = path.Child(FieldPath.Key(itemObject, field.MapKeys));
                paths.Add(itemPath);
                CollectStruct(itemObject, shape.Element, itemPath, paths, maps);
            }

            return;
        }

        Collect(value, shape, path, paths, maps);
    }

    private static void Collect(JsonNode? value, ModelShape shape, FieldPath path, List<FieldPath> paths, HashSet<FieldPath> maps)
    {
        switch (shape.Kind)
        {
            case ShapeKind.Struct when !shape.AtomicStruct && value is JsonObject { Count: > 0 } obj:
                CollectStruct(obj, shape, path, paths, maps);
                break;
            case ShapeKind.Map when value is JsonObject { Count: > 0 } map:
                maps.Add(path);
                foreach (var (key, item) in map)
                {
                    Collect(item, shape.Element, path.Child(FieldPath.Field(key)), paths, maps);
                }

                break;
            default:
                paths.Add(path);
                break;
        }
    }

    private static void CollectStruct(JsonObject obj, ModelShape shape, FieldPath path, List<FieldPath> paths, HashSet<FieldPath> maps)
    {
        foreach (var (name, value) in obj)
        {
            var child = path.Child(FieldPath.Field(name));
            if (shape.Fields.TryGetValue(name, out var field))
            {
                CollectField(value, field, child, paths, maps);
            }
            else
            {
                paths.Add(child);
            }
        }
    }

    private sealed class Node
    {
        public SortedDictionary<string, Node> Children { get; } = new(Comparer<string>.Create(FieldPath.Compare));

        public bool Owned { get; set; }

        public JsonObject Render()
        {
            var obj = new JsonObject();
            if (Owned && Children.Count > 0)
            {
                obj["."] = new JsonObject();
            }

            foreach (var (element, child) in Children)
            {
                obj[element] = child.Render();
            }

            return obj;
        }
    }
}
