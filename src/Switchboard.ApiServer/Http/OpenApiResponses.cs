using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.OpenApi;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// Serves the OpenAPI documents with kube-openapi's caching: an ETag of the document's hash (304 when the client has
/// it), <c>?hash=</c> of the current document cached a year as immutable, a stale hash redirected (301) to the current
/// URL, and v2 in JSON or, as client-go asks for it, in gnostic's protobuf encoding.
/// </summary>
internal static class OpenApiResponses
{
    private const string ProtobufV2 = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

    public static async Task WriteV3Async(HttpContext http, OpenApiDocuments documents, string path)
    {
        var document = documents.GroupVersion(path) ?? throw ApiException.PathNotFound();
        string? hash = http.Request.Query["hash"];
        if (!string.IsNullOrEmpty(hash) && hash != document.Hash)
        {
            http.Response.StatusCode = StatusCodes.Status301MovedPermanently;
            http.Response.Headers.Location = $"/openapi/v3/{path}?hash={document.Hash}";
            return;
        }

        string accept = http.Request.Headers.Accept.ToString();
        if (accept.Length > 0 && !accept.Contains("application/json", StringComparison.OrdinalIgnoreCase) && !accept.Contains("*/*", StringComparison.Ordinal))
        {
            throw ApiException.NotAcceptable(accept);
        }

        http.Response.Headers.Vary = HeaderNames.Accept;
        if (!string.IsNullOrEmpty(hash))
        {
            http.Response.Headers.CacheControl = "public, immutable";
            http.Response.Headers.Expires = DateTimeOffset.UtcNow.AddYears(1).ToString("R");
        }

        await WriteAsync(http, document);
    }

    public static async Task WriteV2Async(HttpContext http, OpenApiDocuments documents)
    {
        if (http.Request.Headers.Accept.ToString().Contains(ProtobufV2, StringComparison.Ordinal))
        {
            // Go's mime parser refuses the '@' of the protobuf media type, so kube-apiserver labels it as octet-stream.
            await WriteAsync(http, documents.V2Protobuf, "application/octet-stream");
            return;
        }

        await WriteAsync(http, documents.V2Document);
    }

    private static async Task WriteAsync(HttpContext http, OpenApiDocuments.Rendered document, string contentType = ApiJson.JsonContentType)
    {
        string etag = $"\"{document.Hash}\"";
        http.Response.Headers.ETag = etag;
        if (http.Request.Headers.IfNoneMatch.ToString() == etag)
        {
            http.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        http.Response.ContentType = contentType;
        await http.Response.Body.WriteAsync(document.Body, http.RequestAborted);
    }
}
