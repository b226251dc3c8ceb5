using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Protobuf;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Requests;
using Switchboard.Kube.Serialization;
using YamlDotNet.Core;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// Reads a request body as JSON: JSON as sent (a missing Content-Type means JSON, as kubectl omits it), YAML or
/// protobuf. A body over the server's limit is 413 RequestEntityTooLarge, as kube-apiserver answers it.
/// </summary>
internal static class RequestBody
{
    private static readonly JsonDocumentOptions JsonOptions = new() { AllowTrailingCommas = false, MaxDepth = RequestLimits.MaxDepth };

    public static async Task<JsonNode> ReadAsync(HttpContext context)
    {
        string mediaType = MediaType(context.Request.ContentType);
        if (mediaType.Contains("cbor", StringComparison.Ordinal))
        {
            throw ApiException.UnsupportedBodyMediaType(mediaType);
        }

        using var body = await ReadBytesAsync(context);
        if (mediaType == "application/vnd.kubernetes.protobuf")
        {
            return ProtobufBody.Decode(body.ToArray());
        }

        // An apply patch is YAML, of which the JSON kubectl and client-go send is a part.
        if (mediaType is "application/yaml" or "text/yaml" || (mediaType == PatchRequest.ApplyPatch && body.Length > 0 && body.GetBuffer()[0] is not (byte)'{'))
        {
            return FromYaml(Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length));
        }

        try
        {
            return JsonNode.Parse(body.GetBuffer().AsSpan(0, (int)body.Length), documentOptions: JsonOptions)
                ?? throw ApiException.BadRequest("the request body is null");
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"couldn't get version/kind; json parse error: {e.Message}");
        }
    }

    /// <summary>
    /// The body as an object of <typeparamref name="TBody"/>, whose kind and apiVersion, when the body names them, must
    /// be <paramref name="expectedKind"/> and <paramref name="groupVersion"/>; unknown fields as fieldValidation says.
    /// </summary>
    public static async Task<TBody> ReadObjectAsync<TBody>(HttpContext context, string expectedKind, string version, string groupVersion)
    {
        var node = await ReadAsync(context);
        if (node is not JsonObject obj)
        {
            throw ApiException.BadRequest($"the body of the request is not a {expectedKind} object");
        }

        string? apiVersion = obj["apiVersion"]?.ToString();
        string? kind = obj["kind"]?.ToString();
        if ((kind is { Length: > 0 } && kind != expectedKind) || (apiVersion is { Length: > 0 } && apiVersion != groupVersion))
        {
            throw ApiException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({groupVersion})" +
                (kind != expectedKind ? $" or kind {kind} is not {expectedKind}" : ""));
        }

        FieldValidation.Check(context, obj, typeof(TBody), expectedKind, version);
        return ObjectCodec.FromNode<TBody>(obj, expectedKind);
    }

    /// <summary>An options document (DeleteOptions) in the body as JSON, or null when the request has none.</summary>
    public static async Task<JsonNode?> ReadOptionsAsync(HttpContext context, string kind)
    {
        if (context.Request.ContentLength is not > 0 && context.Request.Headers.TransferEncoding.Count == 0)
        {
            return null;
        }

        using var body = await ReadBytesAsync(context);
        using var reader = new StreamReader(body, Encoding.UTF8);
        string text = await reader.ReadToEndAsync(context.RequestAborted);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text, documentOptions: JsonOptions);
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"{kind} in body cannot be decoded: " + e.Message);
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

    /// <summary>The whole body. Kestrel enforces the size limit while it is read; that is where a 413 comes from.</summary>
    private static async Task<MemoryStream> ReadBytesAsync(HttpContext context)
    {
        var body = new MemoryStream();
        try
        {
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await body.DisposeAsync();
            throw ApiException.RequestEntityTooLarge(context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? 0);
        }

        body.Position = 0;
        return body;
    }

    private static JsonNode FromYaml(string text)
    {
        try
        {
            YamlBounds.Check(text);
            return YamlJson.Parse(text) ?? throw ApiException.BadRequest("the request body is null");
        }
        catch (YamlException e)
        {
            throw ApiException.BadRequest($"error converting YAML to JSON: {e.Message}");
        }
    }
}
