using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Patch;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// A PATCH body in one of the three patch types applied to the stored object (json, merge, strategic-merge); a
/// server-side apply (<see cref="IsApply"/>) is read and merged by PatchHandler instead.
/// </summary>
internal static class PatchRequest
{
    public const string ApplyPatch = "application/apply-patch+yaml";

    public static bool IsApply(HttpContext http) => RequestBody.MediaType(http.Request.ContentType) == ApplyPatch;

    public static async Task<JsonNode> ReadAsync(HttpContext http)
    {
        string mediaType = RequestBody.MediaType(http.Request.ContentType);
        if (mediaType is not ("application/json-patch+json" or "application/merge-patch+json" or "application/strategic-merge-patch+json"))
        {
            throw ApiException.UnsupportedMediaType(http.Request.ContentType ?? "");
        }

        return await RequestBody.ReadAsync(http);
    }

    /// <summary><paramref name="node"/> with <paramref name="patch"/> applied as the request's Content-Type says.</summary>
    public static JsonNode Apply(HttpContext http, JsonNode node, JsonNode patch) => RequestBody.MediaType(http.Request.ContentType) switch
    {
        "application/json-patch+json" => JsonPatch.Apply(node, patch),
        "application/merge-patch+json" => MergePatch.Apply(node, patch) ?? new JsonObject(),
        "application/strategic-merge-patch+json" => StrategicMergePatch.Apply(node, patch) ?? new JsonObject(),
        _ => throw ApiException.UnsupportedMediaType(http.Request.ContentType ?? ""),
    };
}
