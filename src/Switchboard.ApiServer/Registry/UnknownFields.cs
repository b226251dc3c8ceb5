using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
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
        Walk(node, type, "", found);
        return found;
    }

    private static void Walk(JsonNode? node, Type type, string path, List<string> found)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        switch (node)
        {
            case JsonObject obj when IsModel(type):
                var properties = Properties.GetOrAdd(type, Declared);
                foreach (var (name, value) in obj)
                {
                    string at = path.Length == 0 ? name : path + "." + name;
                    if (properties.TryGetValue(name, out var propertyType))
                    {
                        Walk(value, propertyType, at, found);
                    }
                    else
                    {
                        found.Add(at);
                    }
                }

                break;
            case JsonObject obj when DictionaryValueType(type) is { } valueType:
                foreach (var (name, value) in obj)
                {
                    Walk(value, valueType, path + "." + name, found);
                }

                break;
            case JsonArray array when ElementType(type) is { } elementType:
                for (int i = 0; i < array.Count; i++)
                {
                    Walk(array[i], elementType, $"{path}[{i}]", found);
                }

                break;
        }
    }

    private static bool IsModel(Type type) =>
        type.Namespace == typeof(V1ObjectMeta).Namespace && type.IsClass && type != typeof(IntOrString) && type != typeof(ResourceQuantity);

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
