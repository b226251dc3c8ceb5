using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Discovery;

/// <summary>
/// Content negotiation of aggregated discovery: client-go asks /api and /apis for
/// <c>application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList</c> (then v2beta1, then plain JSON) and reads
/// the reply's Content-Type to pick its decoder, so the answer names the exact type it is. ETag and 304 as
/// kube-apiserver's aggregated handler.
/// </summary>
internal static class AggregatedDiscovery
{
    /// <summary>The apidiscovery version the Accept header asks for first (v2 or v2beta1), or null for legacy discovery.</summary>
    public static string? Requested(HttpContext http)
    {
        foreach (string? value in http.Request.Headers.Accept)
        {
            foreach (string type in (value ?? "").Split(','))
            {
                var parameters = type.Split(';').Skip(1).Select(p => p.Trim()).ToHashSet(StringComparer.Ordinal);
                if (!parameters.Contains("g=apidiscovery.k8s.io") || !parameters.Contains("as=APIGroupDiscoveryList"))
                {
                    continue;
                }

                if (parameters.Contains("v=v2"))
                {
                    return "v2";
                }

                if (parameters.Contains("v=v2beta1"))
                {
                    return "v2beta1";
                }
            }
        }

        return null;
    }

    public static async Task WriteAsync(HttpContext http, JsonObject document, string version)
    {
        byte[] json = ModelJson.NodeToUtf8Bytes(document);
        string etag = $"\"{Convert.ToHexString(SHA256.HashData(json))}\"";
        http.Response.Headers.ETag = etag;
        http.Response.Headers.Vary = HeaderNames.Accept;
        http.Response.Headers.CacheControl = "public";
        http.Response.ContentType = $"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList";
        if (http.Request.Headers.IfNoneMatch.ToString() == etag)
        {
            http.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        await http.Response.Body.WriteAsync(json, http.RequestAborted);
    }
}
