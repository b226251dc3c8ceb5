using System.Collections;
using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json.Serialization;
using k8s.Models;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.OpenApi;

/// <summary>What a JSON value of a model property is, for the schema and for server-side apply's merge.</summary>
internal enum ShapeKind
{
    /// <summary>A string, number or boolean (also a time, a quantity, an int-or-string, bytes).</summary>
    Scalar,

    /// <summary>A model type: named fields.</summary>
    Struct,

    /// <summary>A JSON array.</summary>
    List,

    /// <summary>A free-form string-keyed map (labels, data).</summary>
    Map,

    /// <summary>Any JSON (RawExtension, JSON fields).</summary>
    Untyped,
}

/// <summary>How a list merges (kube-openapi's x-kubernetes-list-type): replaced whole, as a set, or item by item on keys.</summary>
internal enum ListType
{
    Atomic,
    Set,
    Map,
}

/// <summary>
/// The shape of one <c>k8s.Models</c> type, read by reflection from its JSON properties, with the list semantics of
/// k8s.io/api's struct tags (<see cref="ListSemantics"/>) laid over it. One cached shape per CLR type serves the
/// OpenAPI documents (so <c>kubectl explain</c> and field validation see it), and server-side apply's field sets and
/// merge (so apply merges lists the way the published schema says). A kind added to the catalog gets its shape from
/// its model type; nothing is listed per kind.
/// </summary>
internal sealed class ModelShape
{
    private static readonly ConcurrentDictionary<Type, ModelShape> Cache = new();

    private Dictionary<string, FieldShape>? _fields;

    private ModelShape(Type type, ShapeKind kind, Type? element)
    {
        ClrType = type;
        Kind = kind;
        ElementType = element;
    }

    public Type ClrType { get; }

    public ShapeKind Kind { get; }

    /// <summary>The item type of a list or the value type of a map.</summary>
    public Type? ElementType { get; }

    /// <summary>Whether a struct is owned and replaced as a whole (x-kubernetes-map-type: atomic, as LabelSelector).</summary>
    public bool AtomicStruct => Kind == ShapeKind.Struct && ListSemantics.IsAtomicStruct(ClrType.Name);

    /// <summary>The fields of a struct by JSON name, in declaration order.</summary>
    public IReadOnlyDictionary<string, FieldShape> Fields => _fields ??= ReadFields();

    public ModelShape Element => Of(ElementType ?? throw new InvalidOperationException($"{ClrType.Name} has no element"));

    public static ModelShape Of(Type type) => Cache.GetOrAdd(Nullable.GetUnderlyingType(type) ?? type, Create);

    /// <summary>
    /// Whether a CLR type is one of the models with named fields (not a scalar wrapper such as a quantity): the client's,
    /// or one of ours described for the schema (<see cref="V1beta1PodMetrics"/>).
    /// </summary>
    public static bool IsModel(Type type) =>
        (type.Namespace == typeof(V1ObjectMeta).Namespace || type.IsDefined(typeof(DescriptionAttribute), inherit: false))
        && type.IsClass && type != typeof(IntOrString) && type != typeof(ResourceQuantity);

    private static ModelShape Create(Type type)
    {
        if (type == typeof(string) || type.IsPrimitive || type == typeof(DateTime) || type == typeof(decimal) || type == typeof(byte[])
            || type == typeof(IntOrString) || type == typeof(ResourceQuantity) || type.IsEnum)
        {
            return new ModelShape(type, ShapeKind.Scalar, null);
        }

        if (DictionaryValueType(type) is { } value)
        {
            return new ModelShape(type, ShapeKind.Map, value);
        }

        if (ListItemType(type) is { } item)
        {
            return new ModelShape(type, ShapeKind.List, item);
        }

        return IsModel(type) ? new ModelShape(type, ShapeKind.Struct, null) : new ModelShape(type, ShapeKind.Untyped, null);
    }

    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = RootedModels.Justification)]
    private Dictionary<string, FieldShape> ReadFields()
    {
        var fields = new Dictionary<string, FieldShape>();
        if (Kind != ShapeKind.Struct)
        {
            return fields;
        }

        foreach (var property in ClrType.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name is not { } name)
            {
                continue;
            }

            var list = ListSemantics.Of(ClrType.Name, name);
            fields[name] = new FieldShape(name, property, list.Type, list.Keys, list.PatchStrategy, list.PatchMergeKey);
        }

        return fields;
    }

    private static Type? DictionaryValueType(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(IDictionary<,>) || d == typeof(Dictionary<,>) || d == typeof(IReadOnlyDictionary<,>))
            ? type.GetGenericArguments()[1]
            : null;

    private static Type? ListItemType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        return type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) && type.GetGenericArguments().Length == 1
            ? type.GetGenericArguments()[0]
            : null;
    }
}

/// <summary>One JSON property of a model: its CLR property, and for a list how it merges.</summary>
internal sealed record FieldShape(string Name, PropertyInfo Property, ListType ListType, IReadOnlyList<string> MapKeys, string? PatchStrategy, string? PatchMergeKey)
{
    public ModelShape Shape => ModelShape.Of(Property.PropertyType);
}
