using System.Globalization;
using System.Text.Json;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Http;

/// <summary>How a kind's objects and lists go back to the client: their JSON, or the Table kubectl get asks for.</summary>
internal sealed class ResourceResponses<T>(ResourceKind<T> kind, TimeProvider time)
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    // A long list goes out in pieces of about this size rather than whole.
    private const int FlushBytes = 64 * 1024;

    public async Task WriteObjectAsync(HttpContext http, int code, T obj)
    {
        if (TableWriter.IsRequested(http.Request.Headers.Accept))
        {
            var table = TableWriter.Build(kind.Strategy.TableColumns, [obj], time.GetUtcNow(), http.Request.Query["includeObject"], obj.Metadata.ResourceVersion, null, true);
            await ApiJson.WriteAsync(http, code, table);
            return;
        }

        await ApiJson.WriteObjectAsync(http, code, obj);
    }

    /// <summary>A page of a list (GET on a collection), as a Table when asked for one.</summary>
    public async Task WritePageAsync(HttpContext http, ListResult<T> page)
    {
        if (TableWriter.IsRequested(http.Request.Headers.Accept))
        {
            string resourceVersion = page.Revision.ToString(CultureInfo.InvariantCulture);
            var table = TableWriter.Build(kind.Strategy.TableColumns, page.Items, time.GetUtcNow(), http.Request.Query["includeObject"], resourceVersion, page.Continue, true);
            await ApiJson.WriteAsync(http, 200, table);
            return;
        }

        await WriteListAsync(http, page.Items, page.Revision, page.Continue, page.RemainingItemCount);
    }

    /// <summary>
    /// A list document (kind ...List) written as UTF-8 straight into the response, each item serialized once into it:
    /// no string or JSON tree per item, and a long list is sent while it is written.
    /// </summary>
    public async Task WriteListAsync(HttpContext http, IEnumerable<T> items, long revision, string? continueToken = null, long? remainingItemCount = null)
    {
        http.Response.StatusCode = 200;
        http.Response.ContentType = ApiJson.JsonContentType;
        var body = http.Response.BodyWriter;
        await using var json = new Utf8JsonWriter(body);
        json.WriteStartObject();
        json.WriteString("kind", kind.ListKind);
        json.WriteString("apiVersion", kind.GroupVersion);
        json.WriteStartObject("metadata");
        json.WriteString("resourceVersion", revision.ToString(CultureInfo.InvariantCulture));
        if (continueToken is not null)
        {
            json.WriteString("continue", continueToken);
            if (remainingItemCount is { } remaining)
            {
                json.WriteNumber("remainingItemCount", remaining);
            }
        }

        json.WriteEndObject();
        json.WriteStartArray("items");
        long flushed = 0;
        foreach (var item in items)
        {
            ModelJson.Write(json, item);
            if (json.BytesCommitted + json.BytesPending - flushed >= FlushBytes)
            {
                await json.FlushAsync(http.RequestAborted);
                await body.FlushAsync(http.RequestAborted);
                flushed = json.BytesCommitted;
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(http.RequestAborted);
        await body.FlushAsync(http.RequestAborted);
    }
}
