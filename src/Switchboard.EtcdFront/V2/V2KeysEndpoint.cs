using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Switchboard.Storage;

namespace Switchboard.EtcdFront.V2;

/// <summary>
/// etcd v2's keys API, read-only, for the <c>/skydns</c> tree that SkyDNS reads: <c>GET /v2/keys/skydns/…</c>
/// answers a key as a v2 node (<c>value</c>, <c>modifiedIndex</c>, <c>createdIndex</c>) and a prefix as a directory
/// of nodes (all levels with <c>recursive=true</c>), with etcd's <c>X-Etcd-Index</c> header and its error bodies
/// (<c>{"errorCode":100,"message":"Key not found",…}</c>). Directories are the "/"-separated levels of the v3 keys.
/// </summary>
internal sealed class V2KeysEndpoint(IKeyValueStore store, FrontIdentity identity)
{
    public const string Root = "/skydns";

    public async Task InvokeAsync(HttpContext context)
    {
        var response = context.Response;
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "GET, HEAD";
            await WriteErrorAsync(response, 107, "Root is read only", context.Request.Path.Value ?? "", await store.GetRevisionAsync(context.RequestAborted));
            return;
        }

        string key = "/" + ((string?)context.Request.RouteValues["path"] ?? "").Trim('/');
        bool recursive = context.Request.Query["recursive"] == "true";
        var cancellationToken = context.RequestAborted;
        var children = key == Root || key.StartsWith(Root + "/", StringComparison.Ordinal)
            ? await store.RangeAsync(key + "/", default, cancellationToken)
            : null;
        long revision = children?.Revision ?? await store.GetRevisionAsync(cancellationToken);
        var single = children is { Items.Count: 0 } ? await store.GetAsync(key, cancellationToken) : null;
        response.Headers["X-Etcd-Index"] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["X-Etcd-Cluster-Id"] = identity.ClusterId.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        if (children is null || (children.Items.Count == 0 && single is null))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            await WriteErrorAsync(response, 100, "Key not found", key, revision);
            return;
        }

        response.ContentType = "application/json";
        using var buffer = new MemoryStream();
        await using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("action", "get");
            json.WritePropertyName("node");
            if (single is not null)
            {
                WriteLeaf(json, single);
            }
            else
            {
                WriteDirectory(json, key, children.Items, recursive, top: true);
            }

            json.WriteEndObject();
        }

        await response.Body.WriteAsync(buffer.ToArray(), cancellationToken);
    }

    private static void WriteLeaf(Utf8JsonWriter json, KeyValue kv)
    {
        json.WriteStartObject();
        json.WriteString("key", kv.Key);
        json.WriteString("value", Encoding.UTF8.GetString(kv.Value));
        json.WriteNumber("modifiedIndex", kv.ModRevision);
        json.WriteNumber("createdIndex", kv.CreateRevision);
        json.WriteEndObject();
    }

    /// <summary>A directory of <paramref name="items"/> (every key under <paramref name="key"/>/, in key order): its own levels, and below them when <paramref name="recursive"/>.</summary>
    private static void WriteDirectory(Utf8JsonWriter json, string key, IReadOnlyList<KeyValue> items, bool recursive, bool top)
    {
        json.WriteStartObject();
        json.WriteString("key", key);
        json.WriteBoolean("dir", true);
        if (top || recursive)
        {
            json.WritePropertyName("nodes");
            json.WriteStartArray();
            foreach (var level in items.GroupBy(kv => ChildOf(key, kv.Key)))
            {
                var below = level.ToList();
                if (below is [var leaf] && leaf.Key == level.Key)
                {
                    WriteLeaf(json, leaf);
                }
                else
                {
                    WriteDirectory(json, level.Key, [.. below.Where(kv => kv.Key != level.Key)], recursive, top: false);
                }
            }

            json.WriteEndArray();
        }

        if (items.Count > 0)
        {
            json.WriteNumber("modifiedIndex", items.Max(kv => kv.ModRevision));
            json.WriteNumber("createdIndex", items.Min(kv => kv.CreateRevision));
        }

        json.WriteEndObject();
    }

    /// <summary>The child of directory <paramref name="directory"/> that <paramref name="key"/> is in or is.</summary>
    private static string ChildOf(string directory, string key)
    {
        int slash = key.IndexOf('/', directory.Length + 1);
        return slash < 0 ? key : key[..slash];
    }

    private static async Task WriteErrorAsync(HttpResponse response, int code, string message, string cause, long index)
    {
        response.ContentType = "application/json";
        await response.WriteAsync(
            JsonSerializer.Serialize(new V2Error(code, message, cause, index), V2JsonContext.Default.V2Error),
            response.HttpContext.RequestAborted);
    }
}
