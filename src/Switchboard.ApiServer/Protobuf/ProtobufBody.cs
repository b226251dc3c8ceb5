using System.Text;
using System.Text.Json.Nodes;
using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Protobuf;

/// <summary>
/// Decodes the protobuf bodies kubectl 1.32's typed clients send (<c>application/vnd.kubernetes.protobuf</c>, with no
/// JSON fallback: client-go retries 415 only for CBOR) into the JSON the rest of the server reads: the <c>k8s\0</c>
/// magic, a runtime.Unknown envelope (1 typeMeta {1 apiVersion, 2 kind}, 2 raw), and in raw the object as
/// <see cref="ProtobufSchema"/> describes it. Zero-valued non-pointer fields are dropped, as Go's omitempty would.
/// </summary>
internal static class ProtobufBody
{
    private static readonly byte[] Magic = [(byte)'k', (byte)'8', (byte)'s', 0];

    public static JsonObject Decode(ReadOnlyMemory<byte> body)
    {
        if (!body.Span.StartsWith(Magic))
        {
            throw ApiException.BadRequest("protobuf body does not start with the k8s magic number");
        }

        string? apiVersion = null, kind = null;
        ReadOnlyMemory<byte> raw = default;
        foreach (var field in ProtobufReader.Fields(body[Magic.Length..]))
        {
            if (field.Field == 1)
            {
                foreach (var meta in ProtobufReader.Fields(field.Bytes))
                {
                    if (meta.Field == 1)
                    {
                        apiVersion = Text(meta);
                    }
                    else if (meta.Field == 2)
                    {
                        kind = Text(meta);
                    }
                }
            }
            else if (field.Field == 2)
            {
                raw = field.Bytes;
            }
        }

        if (kind is null || !(ProtobufSchema.Kinds.Contains(kind) || ProtobufSchema.AccessKinds.Contains(kind)))
        {
            throw ApiException.UnsupportedBodyMediaType($"application/vnd.kubernetes.protobuf (for kind {kind ?? "<none>"}; send JSON)");
        }

        var obj = Message(kind, raw);
        obj["apiVersion"] = apiVersion;
        obj["kind"] = kind;
        return obj;
    }

    private static JsonObject Message(string type, ReadOnlyMemory<byte> bytes)
    {
        var schema = ProtobufSchema.Messages[type];
        var obj = new JsonObject();
        foreach (var field in ProtobufReader.Fields(bytes))
        {
            if (!schema.TryGetValue(field.Field, out var spec))
            {
                if (field.IsZero)
                {
                    continue;
                }

                throw ApiException.UnsupportedBodyMediaType($"application/vnd.kubernetes.protobuf (field {field.Field} of {type} is not understood; send JSON)");
            }

            if (spec.Type == "ignore" || (field.IsZero && !spec.Pointer && !spec.Repeated && spec.Type is "string" or "int" or "bool"))
            {
                continue;
            }

            if (spec.Type.StartsWith("map<", StringComparison.Ordinal))
            {
                var (key, entry) = MapEntry(spec.Type[4..^1], field, type);
                if (obj[spec.Name] is not JsonObject map)
                {
                    obj[spec.Name] = map = [];
                }

                map[key] = entry;
                continue;
            }

            var value = Value(spec, field, type);
            if (value is JsonObject { Count: 0 } && !spec.Pointer)
            {
                continue;
            }

            if (!spec.Repeated)
            {
                obj[spec.Name] = value;
            }
            else if (obj[spec.Name] is JsonArray list)
            {
                list.Add(value);
            }
            else
            {
                obj[spec.Name] = new JsonArray(value);
            }
        }

        return obj;
    }

    private static JsonNode? Value(FieldSpec spec, WireField field, string message)
    {
        Expect(spec, field, message);
        return spec.Type switch
        {
            "string" => Text(field),
            "bytes" => Convert.ToBase64String(field.Bytes.Span),
            "int" => (long)field.Number,
            "bool" => field.Number != 0,
            "Quantity" => Quantity(field),
            "IntOrString" => IntOrString(field),
            _ => Message(spec.Type, field.Bytes),
        };
    }

    private static (string Key, JsonNode? Value) MapEntry(string valueType, WireField field, string message)
    {
        string key = "";
        JsonNode? value = valueType == "string" ? "" : null;
        foreach (var part in ProtobufReader.Fields(field.Bytes))
        {
            if (part.Field == 1)
            {
                key = Text(part);
            }
            else if (part.Field == 2)
            {
                value = Value(new FieldSpec("value", valueType, false, true), part, message);
            }
        }

        return (key, value);
    }

    private static void Expect(FieldSpec spec, WireField field, string message)
    {
        int expected = spec.Type is "int" or "bool" ? WireField.VarintType : WireField.LengthDelimitedType;
        if (field.WireType != expected)
        {
            throw ApiException.BadRequest($"malformed protobuf body: field {field.Field} ({spec.Name}) of {message} has wire type {field.WireType}");
        }
    }

    /// <summary>resource.Quantity is a message whose field 1 is its string form.</summary>
    private static JsonNode? Quantity(WireField field) =>
        ProtobufReader.Fields(field.Bytes).Where(f => f.Field == 1).Select(f => (JsonNode?)Text(f)).FirstOrDefault();

    /// <summary>intstr.IntOrString: 1 type (0 int, 1 string), 2 intVal, 3 strVal.</summary>
    private static JsonNode IntOrString(WireField field)
    {
        ulong type = 0, number = 0;
        string text = "";
        foreach (var part in ProtobufReader.Fields(field.Bytes))
        {
            switch (part.Field)
            {
                case 1:
                    type = part.Number;
                    break;
                case 2:
                    number = part.Number;
                    break;
                case 3:
                    text = Text(part);
                    break;
            }
        }

        return type == 1 ? JsonValue.Create(text) : JsonValue.Create((int)(long)number);
    }

    private static string Text(WireField field) => Encoding.UTF8.GetString(field.Bytes.Span);
}
