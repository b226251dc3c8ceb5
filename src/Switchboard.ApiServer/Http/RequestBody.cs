using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Protobuf;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Switchboard.ApiServer.Http;

/// <summary>Reads a request body as JSON: JSON as sent (a missing Content-Type means JSON, as kubectl omits it), or YAML.</summary>
internal static class RequestBody
{
    public static async Task<JsonNode> ReadAsync(HttpContext context)
    {
        string mediaType = MediaType(context.Request.ContentType);
        if (mediaType.Contains("cbor", StringComparison.Ordinal))
        {
            throw ApiException.UnsupportedBodyMediaType(mediaType);
        }

        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        if (mediaType == "application/vnd.kubernetes.protobuf")
        {
            return ProtobufBody.Decode(body.ToArray());
        }

        if (mediaType is "application/yaml" or "text/yaml")
        {
            return FromYaml(Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length));
        }

        try
        {
            return JsonNode.Parse(body.GetBuffer().AsSpan(0, (int)body.Length), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false })
                ?? throw ApiException.BadRequest("the request body is null");
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"couldn't get version/kind; json parse error: {e.Message}");
        }
    }

    /// <summary>The media type without parameters, lower-cased ("" when absent).</summary>
    public static string MediaType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return "";
        }

        int semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon < 0 ? contentType : contentType[..semicolon]).Trim().ToLowerInvariant();
    }

    private static JsonNode FromYaml(string text)
    {
        try
        {
            var value = new DeserializerBuilder().WithAttemptingUnquotedStringTypeDeserialization().Build().Deserialize<object>(text);
            return ToNode(value) ?? throw ApiException.BadRequest("the request body is null");
        }
        catch (YamlException e)
        {
            throw ApiException.BadRequest($"error converting YAML to JSON: {e.Message}");
        }
    }

    private static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        IDictionary<object, object> map => new JsonObject(map.Select(p => KeyValuePair.Create(Convert.ToString(p.Key, System.Globalization.CultureInfo.InvariantCulture) ?? "", ToNode(p.Value)))),
        IList<object> list => new JsonArray([.. list.Select(ToNode)]),
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(d),
        decimal m => JsonValue.Create(m),
        _ => JsonValue.Create(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)),
    };
}
