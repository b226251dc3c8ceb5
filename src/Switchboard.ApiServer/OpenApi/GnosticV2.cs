using System.Text.Json.Nodes;
using Switchboard.ApiServer.Protobuf;

namespace Switchboard.ApiServer.OpenApi;

/// <summary>
/// The OpenAPI v2 document in gnostic's protobuf encoding (openapi_v2.Document of github.com/google/gnostic-models,
/// field numbers from its OpenAPIv2.proto), which client-go asks <c>/openapi/v2</c> for
/// (<c>application/com.github.proto-openapi.spec.v2@v1.0+protobuf</c>) and kubectl reads for
/// <c>explain --output plaintext-openapiv2</c> and client-side validation. Encoded from the JSON document, so both
/// encodings say the same: maps become gnostic's ordered (name, value) lists, <c>x-</c> keys vendor extensions whose
/// value is carried as YAML text (JSON is YAML), and a key this encoder does not know is an error rather than dropped.
/// </summary>
internal static class GnosticV2
{
    public static byte[] Encode(JsonObject document)
    {
        var writer = new ProtobufWriter();
        foreach (var (key, value) in document)
        {
            switch (key)
            {
                case "swagger":
                    writer.String(1, Text(value));
                    break;
                case "info":
                    writer.Message(2, w => Info(w, Object(value, key)));
                    break;
                case "paths":
                    writer.Message(8, w => Named(w, Object(value, key), 2, PathItem));
                    break;
                case "definitions":
                    writer.Message(9, w => Named(w, Object(value, key), 1, Schema));
                    break;
                default:
                    Extension(writer, 16, key, value, "Document");
                    break;
            }
        }

        return writer.ToArray();
    }

    private static void Info(ProtobufWriter writer, JsonObject info)
    {
        foreach (var (key, value) in info)
        {
            switch (key)
            {
                case "title":
                    writer.String(1, Text(value));
                    break;
                case "version":
                    writer.String(2, Text(value));
                    break;
                case "description":
                    writer.String(3, Text(value));
                    break;
                default:
                    Extension(writer, 7, key, value, "Info");
                    break;
            }
        }
    }

    private static void PathItem(ProtobufWriter writer, JsonObject item)
    {
        foreach (var (key, value) in item)
        {
            int? method = key switch { "get" => 2, "put" => 3, "post" => 4, "delete" => 5, "options" => 6, "head" => 7, "patch" => 8, _ => null };
            if (method is { } field)
            {
                writer.Message(field, w => Operation(w, Object(value, key)));
            }
            else if (key == "parameters")
            {
                Parameters(writer, 9, value);
            }
            else
            {
                Extension(writer, 10, key, value, "PathItem");
            }
        }
    }

    private static void Operation(ProtobufWriter writer, JsonObject operation)
    {
        foreach (var (key, value) in operation)
        {
            switch (key)
            {
                case "tags":
                    Strings(writer, 1, value);
                    break;
                case "summary":
                    writer.String(2, Text(value));
                    break;
                case "description":
                    writer.String(3, Text(value));
                    break;
                case "operationId":
                    writer.String(5, Text(value));
                    break;
                case "produces":
                    Strings(writer, 6, value);
                    break;
                case "consumes":
                    Strings(writer, 7, value);
                    break;
                case "parameters":
                    Parameters(writer, 8, value);
                    break;
                case "responses":
                    writer.Message(9, w => Responses(w, Object(value, key)));
                    break;
                case "schemes":
                    Strings(writer, 10, value);
                    break;
                case "deprecated":
                    writer.Bool(11, Bool(value));
                    break;
                default:
                    Extension(writer, 13, key, value, "Operation");
                    break;
            }
        }
    }

    /// <summary>ParametersItem: a Parameter (1), which is a BodyParameter (1) or a NonBodyParameter (2) by where it goes.</summary>
    private static void Parameters(ProtobufWriter writer, int field, JsonNode? parameters)
    {
        foreach (var parameter in Array(parameters, "parameters"))
        {
            var p = Object(parameter, "parameter");
            writer.Message(field, item => item.Message(1, w =>
            {
                if (Text(p["in"]) == "body")
                {
                    w.Message(1, body => BodyParameter(body, p));
                }
                else
                {
                    w.Message(2, other => NonBodyParameter(other, p));
                }
            }));
        }
    }

    private static void BodyParameter(ProtobufWriter writer, JsonObject parameter)
    {
        foreach (var (key, value) in parameter)
        {
            switch (key)
            {
                case "description":
                    writer.String(1, Text(value));
                    break;
                case "name":
                    writer.String(2, Text(value));
                    break;
                case "in":
                    writer.String(3, Text(value));
                    break;
                case "required":
                    writer.Bool(4, Bool(value));
                    break;
                case "schema":
                    writer.Message(5, w => Schema(w, Object(value, key)));
                    break;
                default:
                    Extension(writer, 6, key, value, "BodyParameter");
                    break;
            }
        }
    }

    /// <summary>
    /// The sub-schema of a header (1), formData (2), query (3) or path (4) parameter. Query and formData number their
    /// fields after an allowEmptyValue at 5; header and path have none, so theirs are one lower from type on.
    /// </summary>
    private static void NonBodyParameter(ProtobufWriter writer, JsonObject parameter)
    {
        string location = Text(parameter["in"]);
        int kind = location switch
        {
            "header" => 1,
            "formData" => 2,
            "query" => 3,
            "path" => 4,
            _ => throw new InvalidOperationException($"an OpenAPI v2 parameter is in \"{location}\", not header, formData, query, path or body"),
        };
        int shift = kind is 2 or 3 ? 1 : 0;
        writer.Message(kind, w =>
        {
            foreach (var (key, value) in parameter)
            {
                switch (key)
                {
                    case "required":
                        w.Bool(1, Bool(value));
                        break;
                    case "in":
                        w.String(2, Text(value));
                        break;
                    case "description":
                        w.String(3, Text(value));
                        break;
                    case "name":
                        w.String(4, Text(value));
                        break;
                    case "allowEmptyValue" when shift == 1:
                        w.Bool(5, Bool(value));
                        break;
                    case "type":
                        w.String(5 + shift, Text(value));
                        break;
                    case "format":
                        w.String(6 + shift, Text(value));
                        break;
                    case "uniqueItems":
                        w.Bool(19 + shift, Bool(value));
                        break;
                    default:
                        Extension(w, 22 + shift, key, value, "parameter");
                        break;
                }
            }
        });
    }

    /// <summary>Responses: each code a NamedResponseValue whose ResponseValue is a Response (1).</summary>
    private static void Responses(ProtobufWriter writer, JsonObject responses)
    {
        foreach (var (code, value) in responses)
        {
            if (code.StartsWith("x-", StringComparison.Ordinal))
            {
                Extension(writer, 2, code, value, "Responses");
                continue;
            }

            writer.Message(1, named =>
            {
                named.String(1, code);
                named.Message(2, v => v.Message(1, w => Response(w, Object(value, code))));
            });
        }
    }

    private static void Response(ProtobufWriter writer, JsonObject response)
    {
        foreach (var (key, value) in response)
        {
            switch (key)
            {
                case "description":
                    writer.String(1, Text(value));
                    break;
                case "schema":
                    // SchemaItem: a Schema (1) or a FileSchema (2).
                    writer.Message(2, item => item.Message(1, w => Schema(w, Object(value, key))));
                    break;
                default:
                    Extension(writer, 5, key, value, "Response");
                    break;
            }
        }
    }

    private static void Schema(ProtobufWriter writer, JsonObject schema)
    {
        foreach (var (key, value) in schema)
        {
            switch (key)
            {
                case "$ref":
                    writer.String(1, Text(value));
                    break;
                case "format":
                    writer.String(2, Text(value));
                    break;
                case "title":
                    writer.String(3, Text(value));
                    break;
                case "description":
                    writer.String(4, Text(value));
                    break;
                case "default":
                    writer.Message(5, w => Any(w, value));
                    break;
                case "uniqueItems":
                    writer.Bool(16, Bool(value));
                    break;
                case "required":
                    Strings(writer, 19, value);
                    break;
                case "enum":
                    foreach (var item in Array(value, key))
                    {
                        writer.Message(20, w => Any(w, item));
                    }

                    break;
                case "additionalProperties" when value is JsonObject additional:
                    writer.Message(21, w => w.Message(1, s => Schema(s, additional)));
                    break;
                case "additionalProperties":
                    writer.Message(21, w => w.Bool(2, Bool(value)));
                    break;
                case "type":
                    // TypeItem: one type or several.
                    writer.Message(22, w =>
                    {
                        foreach (var type in OneOrMore(value))
                        {
                            w.String(1, Text(type));
                        }
                    });
                    break;
                case "items":
                    // ItemsItem: one schema or a tuple of them.
                    writer.Message(23, w =>
                    {
                        foreach (var item in OneOrMore(value))
                        {
                            w.Message(1, s => Schema(s, Object(item, key)));
                        }
                    });
                    break;
                case "allOf":
                    foreach (var item in Array(value, key))
                    {
                        writer.Message(24, w => Schema(w, Object(item, key)));
                    }

                    break;
                case "properties":
                    writer.Message(25, w => Named(w, Object(value, key), 1, Schema));
                    break;
                case "readOnly":
                    writer.Bool(27, Bool(value));
                    break;
                default:
                    Extension(writer, 31, key, value, "Schema");
                    break;
            }
        }
    }

    /// <summary>A JSON object as gnostic's ordered (name 1, value 2) pairs, each in field <paramref name="field"/>.</summary>
    private static void Named(ProtobufWriter writer, JsonObject map, int field, Action<ProtobufWriter, JsonObject> value)
    {
        foreach (var (name, item) in map)
        {
            writer.Message(field, named =>
            {
                named.String(1, name);
                named.Message(2, w => value(w, Object(item, name)));
            });
        }
    }

    /// <summary>An <c>x-</c> key as a NamedAny in field <paramref name="field"/>; any other key has no place in the message.</summary>
    private static void Extension(ProtobufWriter writer, int field, string key, JsonNode? value, string message)
    {
        if (!key.StartsWith("x-", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the OpenAPI v2 document has \"{key}\" in a {message}, which its protobuf encoding does not carry");
        }

        writer.Message(field, named =>
        {
            named.String(1, key);
            named.Message(2, w => Any(w, value));
        });
    }

    /// <summary>gnostic's Any: a value as YAML text (2); JSON is YAML, so the JSON text serves.</summary>
    private static void Any(ProtobufWriter writer, JsonNode? value) => writer.String(2, value?.ToJsonString() ?? "null");

    private static void Strings(ProtobufWriter writer, int field, JsonNode? values)
    {
        foreach (var value in Array(values, "list"))
        {
            writer.String(field, Text(value));
        }
    }

    /// <summary>The items of a list, or the one value that stands for a list of one (a type, an items schema).</summary>
    private static IEnumerable<JsonNode?> OneOrMore(JsonNode? node) => node is JsonArray list ? list : Enumerable.Repeat(node, 1);

    private static JsonObject Object(JsonNode? node, string key) =>
        node as JsonObject ?? throw new InvalidOperationException($"the OpenAPI v2 document's \"{key}\" is not an object");

    private static JsonArray Array(JsonNode? node, string key) =>
        node as JsonArray ?? throw new InvalidOperationException($"the OpenAPI v2 document's \"{key}\" is not a list");

    private static string Text(JsonNode? node) => node?.GetValue<string>() ?? "";

    private static bool Bool(JsonNode? node) => node?.GetValue<bool>() ?? false;
}
