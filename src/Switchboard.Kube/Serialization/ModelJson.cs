using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using k8s;

namespace Switchboard.Kube.Serialization;

/// <summary>
/// The Kubernetes models' JSON (KubernetesClient's own serializer options) straight to and from UTF-8 bytes, elements
/// and nodes. <see cref="KubernetesJson"/> only goes through strings, which costs a copy and a transcode per object on
/// the hottest paths of the API server and the controllers.
/// </summary>
public static class ModelJson
{
    public static JsonSerializerOptions Options { get; } = CaptureOptions();

    public static byte[] ToUtf8Bytes<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Info<T>());

    public static void Write<T>(Utf8JsonWriter writer, T value) => JsonSerializer.Serialize(writer, value, Info<T>());

    public static T? FromUtf8Bytes<T>(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, Info<T>());

    public static JsonNode? ToNode<T>(T value) => JsonSerializer.SerializeToNode(value, Info<T>());

    public static T? FromNode<T>(JsonNode node) => node.Deserialize(Info<T>());

    /// <summary>A JSON document's UTF-8 text, written from its nodes (no string in between); as <c>ToJsonString</c> spells it.</summary>
    public static byte[] NodeToUtf8Bytes(JsonNode node)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            node.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A deep copy through JSON.</summary>
    public static T Clone<T>(T value) => FromUtf8Bytes<T>(ToUtf8Bytes(value))!;

    /// <summary>Whether two values serialize to equal JSON, whatever the order of object keys (labels, say).</summary>
    public static bool SameContent<T>(T a, T b) =>
        JsonElement.DeepEquals(JsonSerializer.SerializeToElement(a, Info<T>()), JsonSerializer.SerializeToElement(b, Info<T>()));

    /// <summary>
    /// Equality as apimachinery's Semantic.DeepEqual sees value-typed fields: <see cref="SameContent"/> once
    /// <see cref="WithoutEmpty(JsonNode?)"/> has dropped what Go cannot tell from absent (<c>resources: {}</c> after a
    /// kubectl patch, an empty list).
    /// </summary>
    public static bool SemanticallyEqual<T>(T a, T b) => JsonNode.DeepEquals(WithoutEmpty(ToNode(a)), WithoutEmpty(ToNode(b)));

    /// <summary>
    /// A copy of <paramref name="node"/> as Go's semantic DeepEqual sees value-typed fields: nulls, empty objects and
    /// empty lists are dropped (<c>resources: {}</c> equals no resources), except where emptiness means something
    /// (<c>emptyDir: {}</c>); a list item that empties stays as <c>{}</c> so positions hold.
    /// </summary>
    public static JsonNode? WithoutEmpty(JsonNode? node) => WithoutEmpty(node, null);

    private static JsonNode? WithoutEmpty(JsonNode? node, string? name)
    {
        switch (node)
        {
            case JsonObject obj:
                var kept = new JsonObject();
                foreach (var (key, value) in obj)
                {
                    if (WithoutEmpty(value, key) is { } child)
                    {
                        kept[key] = child;
                    }
                }

                return kept.Count == 0 && name != "emptyDir" ? null : kept;
            case JsonArray array:
                return array.Count == 0 ? null : new JsonArray([.. array.Select(item => WithoutEmpty(item, null) ?? new JsonObject())]);
            default:
                return node?.DeepClone();
        }
    }

    /// <summary>
    /// The contract of <typeparamref name="T"/> as the options resolve it: a model's from KubernetesClient's generated
    /// JSON context, another type's by reflection. Serializing with a contract needs no runtime code generation, which
    /// the native build has none of (the overloads taking only options are marked as needing it).
    /// </summary>
    public static JsonTypeInfo<T> Info<T>() => (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));

    private static JsonSerializerOptions CaptureOptions()
    {
        JsonSerializerOptions? options = null;
        KubernetesJson.AddJsonOptions(o => options = o);
        return options ?? throw new InvalidOperationException("KubernetesJson did not hand out its serializer options");
    }
}
