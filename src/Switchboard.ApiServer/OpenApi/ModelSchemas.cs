using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s.Models;

namespace Switchboard.ApiServer.OpenApi;

/// <summary>
/// The OpenAPI definitions of every served kind and of the types they are made of, generated from the
/// <see cref="ModelShape"/> of each kind's model type, with upstream's definition names
/// (<c>io.k8s.api.core.v1.ServiceSpec</c>), descriptions (<see cref="ModelDocs"/>), the kind's
/// x-kubernetes-group-version-kind, the <c>required</c> fields (<see cref="RequiredFields"/>), and the list and map
/// extensions server-side apply reads. Built once for v2
/// (<c>#/definitions/</c>) or v3 (<c>#/components/schemas/</c>, references wrapped in allOf as kube-openapi does).
/// </summary>
internal sealed partial class ModelSchemas
{
    private const string MetaPackage = "io.k8s.apimachinery.pkg.apis.meta.v1.";

    /// <summary>The packages of the types that are not k8s.io/api's, which upstream names after their Go module.</summary>
    private static readonly Dictionary<string, string> OtherModules = new(StringComparer.Ordinal)
    {
        ["metrics"] = "io.k8s.metrics.pkg.apis.metrics",
        ["apiextensions"] = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions",
    };

    private static readonly HashSet<string> MetaTypes =
    [
        "V1ObjectMeta", "V1ListMeta", "V1LabelSelector", "V1LabelSelectorRequirement", "V1OwnerReference", "V1ManagedFieldsEntry",
        "V1Condition", "V1Status", "V1StatusDetails", "V1StatusCause", "V1DeleteOptions", "V1Preconditions",
    ];

    private readonly string _refPrefix;
    private readonly bool _v3;
    private readonly Dictionary<Type, string> _names = [];
    private readonly Dictionary<string, PublishedKind> _kindsByType = [];
    private readonly ModelDocs _docs = new();

    public ModelSchemas(IReadOnlyList<PublishedKind> kinds, bool v3)
    {
        _v3 = v3;
        _refPrefix = v3 ? "#/components/schemas/" : "#/definitions/";
        foreach (var kind in kinds)
        {
            _kindsByType.TryAdd(kind.Model.Name, kind);
            Name(kind.Model, Package(kind.Group));
        }

        // Names are given walking the kinds in catalog order, so a shared type (PodSpec) is named after the first
        // kind that uses it (core's Pod, before apps' Deployment), and every later walk finds it named.
        foreach (var kind in kinds)
        {
            Walk(kind.Model, Package(kind.Group), []);
        }
    }

    /// <summary>The definition name of a model type, or of the scalar wrappers (Time, Quantity, IntOrString).</summary>
    public string NameOf(Type type) => _names[type];

    /// <summary>The definitions reachable from <paramref name="roots"/>, by name.</summary>
    public JsonObject Definitions(IEnumerable<Type> roots)
    {
        var reached = new SortedDictionary<string, Type>(StringComparer.Ordinal);
        foreach (var root in roots)
        {
            Reach(root, reached);
        }

        var definitions = new JsonObject();
        foreach (var (name, type) in reached)
        {
            definitions[name] = Definition(type);
        }

        return definitions;
    }

    public JsonObject Ref(Type type) => new() { ["$ref"] = _refPrefix + NameOf(type) };

    private static string Package(string group) => group.Length == 0 ? "core" : group.Split('.')[0];

    private void Name(Type type, string package)
    {
        if (_names.ContainsKey(type))
        {
            return;
        }

        if (type == typeof(DateTime))
        {
            _names[type] = MetaPackage + "Time";
        }
        else if (type == typeof(IntOrString))
        {
            _names[type] = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
        }
        else if (type == typeof(ResourceQuantity))
        {
            _names[type] = "io.k8s.apimachinery.pkg.api.resource.Quantity";
        }
        else if (VersionedName().Match(type.Name) is { Success: true } m)
        {
            string version = "v" + m.Groups["version"].Value;
            string name = m.Groups["name"].Value;
            _names[type] = MetaTypes.Contains(type.Name) ? MetaPackage + name : $"{OtherModules.GetValueOrDefault(package, "io.k8s.api." + package)}.{version}.{name}";
        }
        else
        {
            _names[type] = $"io.k8s.api.{package}.{type.Name}";
        }
    }

    private void Walk(Type type, string package, HashSet<Type> seen)
    {
        var shape = ModelShape.Of(type);
        switch (shape.Kind)
        {
            case ShapeKind.Struct when seen.Add(shape.ClrType):
                Name(shape.ClrType, package);
                foreach (var field in shape.Fields.Values)
                {
                    Walk(field.Property.PropertyType, package, seen);
                }

                break;
            case ShapeKind.List or ShapeKind.Map:
                Walk(shape.ElementType!, package, seen);
                break;
            case ShapeKind.Scalar when shape.ClrType == typeof(DateTime) || shape.ClrType == typeof(IntOrString) || shape.ClrType == typeof(ResourceQuantity):
                Name(shape.ClrType, package);
                break;
        }
    }

    private void Reach(Type type, SortedDictionary<string, Type> reached)
    {
        var shape = ModelShape.Of(type);
        if (_names.TryGetValue(shape.ClrType, out string? name))
        {
            if (!reached.TryAdd(name, shape.ClrType))
            {
                return;
            }
        }

        if (shape.Kind == ShapeKind.Struct)
        {
            foreach (var field in shape.Fields.Values)
            {
                Reach(field.Property.PropertyType, reached);
            }
        }
        else if (shape.Kind is ShapeKind.List or ShapeKind.Map)
        {
            Reach(shape.ElementType!, reached);
        }
    }

    private JsonObject Definition(Type type)
    {
        if (type == typeof(DateTime))
        {
            return new JsonObject { ["description"] = "Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.  Wrappers are provided for many of the factory methods that the time package offers.", ["type"] = "string", ["format"] = "date-time" };
        }

        // v3 says what the two scalar wrappers hold with oneOf, as kube-openapi does (kubectl explain then names them);
        // v2 has no oneOf, so they are strings there.
        if (type == typeof(IntOrString))
        {
            var intOrString = new JsonObject { ["description"] = "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.", ["format"] = "int-or-string" };
            return _v3 ? OneOf(intOrString, "integer", "string") : Typed(intOrString, "string");
        }

        if (type == typeof(ResourceQuantity))
        {
            var quantity = new JsonObject { ["description"] = _docs.OfType(type) ?? "Quantity is a fixed-point representation of a number." };
            return _v3 ? OneOf(quantity, "string", "number") : Typed(quantity, "string");
        }

        var shape = ModelShape.Of(type);
        var definition = new JsonObject();
        if (_docs.OfType(type) is { } description)
        {
            definition["description"] = description;
        }

        definition["type"] = "object";
        var properties = new JsonObject();
        foreach (var field in shape.Fields.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            properties[field.Name] = Property(type, field);
        }

        definition["properties"] = properties;
        if (RequiredFields.Of(type) is { Count: > 0 } required)
        {
            definition["required"] = new JsonArray([.. required.Select(r => (JsonNode)r)]);
        }

        if (shape.AtomicStruct)
        {
            definition["x-kubernetes-map-type"] = "atomic";
        }

        if (_kindsByType.TryGetValue(type.Name, out var kind))
        {
            definition["x-kubernetes-group-version-kind"] = new JsonArray(new JsonObject { ["group"] = kind.Group, ["kind"] = kind.Kind, ["version"] = kind.Version });
        }

        return definition;
    }

    private static JsonObject OneOf(JsonObject definition, params string[] types)
    {
        definition["oneOf"] = new JsonArray([.. types.Select(t => (JsonNode)new JsonObject { ["type"] = t })]);
        return definition;
    }

    private static JsonObject Typed(JsonObject definition, string type)
    {
        definition["type"] = type;
        return definition;
    }

    private JsonObject Property(Type owner, FieldShape field)
    {
        var schema = Schema(field.Property.PropertyType, wrapReference: true);
        if (_docs.OfProperty(owner, field.Property.Name) is { } description)
        {
            schema["description"] = description;
        }

        if (field.Shape.Kind == ShapeKind.List)
        {
            if (field.ListType != ListType.Atomic || field.PatchStrategy is null)
            {
                schema["x-kubernetes-list-type"] = field.ListType.ToString().ToLowerInvariant();
            }

            if (field.MapKeys.Count > 0)
            {
                schema["x-kubernetes-list-map-keys"] = new JsonArray([.. field.MapKeys.Select(k => (JsonNode)k)]);
            }
        }

        if (field.PatchMergeKey is not null)
        {
            schema["x-kubernetes-patch-merge-key"] = field.PatchMergeKey;
        }

        if (field.PatchStrategy is not null)
        {
            schema["x-kubernetes-patch-strategy"] = field.PatchStrategy;
        }

        return schema;
    }

    private JsonObject Schema(Type type, bool wrapReference)
    {
        var shape = ModelShape.Of(type);
        type = shape.ClrType;
        if (_names.ContainsKey(type) && (shape.Kind == ShapeKind.Struct || type == typeof(DateTime) || type == typeof(IntOrString) || type == typeof(ResourceQuantity)))
        {
            return _v3 && wrapReference ? new JsonObject { ["allOf"] = new JsonArray(Ref(type)) } : Ref(type);
        }

        return shape.Kind switch
        {
            ShapeKind.List => new JsonObject { ["type"] = "array", ["items"] = Schema(shape.ElementType!, wrapReference) },
            ShapeKind.Map => new JsonObject { ["type"] = "object", ["additionalProperties"] = Schema(shape.ElementType!, wrapReference) },
            ShapeKind.Untyped or ShapeKind.Struct => new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true },
            _ => Scalar(type),
        };
    }

    private static JsonObject Scalar(Type type)
    {
        if (type == typeof(bool))
        {
            return new JsonObject { ["type"] = "boolean" };
        }

        if (type == typeof(int) || type == typeof(short) || type == typeof(byte))
        {
            return new JsonObject { ["type"] = "integer", ["format"] = "int32" };
        }

        if (type == typeof(long))
        {
            return new JsonObject { ["type"] = "integer", ["format"] = "int64" };
        }

        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
        {
            return new JsonObject { ["type"] = "number", ["format"] = "double" };
        }

        return type == typeof(byte[]) ? new JsonObject { ["type"] = "string", ["format"] = "byte" } : new JsonObject { ["type"] = "string" };
    }

    [GeneratedRegex("^(?:[A-Z][a-z]+)?[Vv](?<version>[0-9]+(?:(?:alpha|beta)[0-9]+)?)(?<name>[A-Z].*)$")]
    private static partial Regex VersionedName();
}
