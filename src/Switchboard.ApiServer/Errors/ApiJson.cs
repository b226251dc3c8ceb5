using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Errors;

/// <summary>Writes JSON answers and Status errors the way client-go and the C# client parse them.</summary>
internal static class ApiJson
{
    public const string JsonContentType = "application/json";

    public static Task WriteAsync(HttpContext context, int code, string json)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = JsonContentType;
        return context.Response.WriteAsync(json, Encoding.UTF8, context.RequestAborted);
    }

    public static Task WriteAsync(HttpContext context, int code, JsonNode node) => WriteAsync(context, code, node.ToJsonString());

    public static Task WriteObjectAsync(HttpContext context, int code, object obj)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = JsonContentType;
        return context.Response.Body.WriteAsync(ModelJson.ToUtf8Bytes(obj), context.RequestAborted).AsTask();
    }

    public static Task WriteStatusAsync(HttpContext context, V1Status status) =>
        WriteAsync(context, status.Code ?? 500, StatusNode(status));

    /// <summary>A Status as JSON (the model's own converter only reads); a Success has no message or reason, as upstream omits them.</summary>
    public static JsonObject StatusNode(V1Status status)
    {
        var node = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = status.Status,
        };
        if (status.Message is not null)
        {
            node["message"] = status.Message;
        }

        if (status.Reason is not null)
        {
            node["reason"] = status.Reason;
        }

        if (status.Details is not null)
        {
            node["details"] = ModelJson.ToNode(status.Details);
        }

        node["code"] = status.Code;
        return node;
    }

    public static Task WriteErrorAsync(HttpContext context, ApiException error) => WriteStatusAsync(context, error.Status);
}
