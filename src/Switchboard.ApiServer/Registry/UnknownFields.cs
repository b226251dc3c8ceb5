using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s.Models;

namespace Switchboard.ApiServer.Registry;

/// <summary>
/// Finds the fields of a JSON body that the <c>k8s.Models</c> type does not declare, for server-side field
/// validation (fieldValidation=Strict|Warn), with the paths upstream prints (spec.template.spec.containers[0].foo).
/// </summary>
internal static class UnknownFields
{
    private static readonly ConcurrentDictionary<Type, Dictionary<string, Type>> Properties = new();

    public static IReadOnlyList<string> Find(JsonNode? node, Type type)
    {
        var found = new List<string>();
        Walk(node, type, [], found);
        return found;
    }

    // The path is kept as segments (a property name, or an index when the name is null) and only spelled out for an
    // unknown field: every request body is walked, and nearly all of them have none.
    private static void Walk(JsonNode? node, Type type, List<(string? Name, int Index)> path, List<string> found)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        switch (node)
        {
            case JsonObject obj when IsModel(type):
                var properties = Properties.GetOrAdd(type, Declared);
                foreach (var (name, value) in obj)
                {
                    path.Add((name, 0));
                    if (properties.TryGetValue(name, out var propertyType))
                    {
                        Walk(value, propertyType, path, found);
                    }
                    else
                    {
                        found.Add(Spell(path));
                    }

                    path.RemoveAt(path.Count - 1);
                }

                break;
            case JsonObject obj when DictionaryValueType(type) is { } valueType:
                foreach (var (name, value) in obj)
                {
                    path.Add((name, 0));
                    Walk(value, valueType, path, found);
                    path.RemoveAt(path.Count - 1);
                }

                break;
            case JsonArray array when ElementType(type) is { } elementType:
                for (int i = 0; i < array.Count; i++)
                {
                    path.Add((null, i));
                    Walk(array[i], elementType, path, found);
                    path.RemoveAt(path.Count - 1);
                }

                break;
        }
    }

    /// <summary>The path as upstream prints it: spec.template.spec.containers[0].foo.</summary>
    private static string Spell(List<(string? Name, int Index)> path)
    {
        var builder = new StringBuilder();
        foreach (var (name, index) in path)
        {
            if (name is null)
            {
                builder.Append('[').Append(index.ToString(CultureInfo.InvariantCulture)).Append(']');
            }
            else
            {
                builder.Append(builder.Length == 0 ? "" : ".").Append(name);
            }
        }

        return builder.ToString();
    }

    private static bool IsModel(Type type) =>
        type.Namespace == typeof(V1ObjectMeta).Namespace && type.IsClass && type != typeof(IntOrString) && type != typeof(ResourceQuantity);

    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = RootedModels.Justification)]
    private static Dictionary<string, Type> Declared(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name, p.PropertyType))
            .Where(p => p.Name is not null)
            .ToDictionary(p => p.Name!, p => p.PropertyType);

    private static Type? DictionaryValueType(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(IDictionary<,>) || d == typeof(Dictionary<,>))
            ? type.GetGenericArguments()[1]
            : null;

    private static Type? ElementType(Type type)
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
