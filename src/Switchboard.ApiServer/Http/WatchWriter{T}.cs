using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// Writes a watch stream: one JSON event per line, flushed at once. With a Table Accept header each object is a
/// one-row Table whose column definitions come only with the first event, as kube-apiserver does.
/// </summary>
internal sealed class WatchWriter<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly HttpContext _http;
    private readonly IReadOnlyList<TableColumn<T>> _columns;
    private readonly TimeProvider _time;
    private readonly ResourceKind _kind;
    private readonly bool _asTable;
    private bool _headersSent;

    public WatchWriter(HttpContext http, IReadOnlyList<TableColumn<T>> columns, TimeProvider time, ResourceKind kind)
    {
        _http = http;
        _columns = columns;
        _time = time;
        _kind = kind;
        _asTable = TableWriter.IsRequested(http.Request.Headers.Accept);
    }

    public async Task StartAsync()
    {
        _http.Response.StatusCode = 200;
        _http.Response.ContentType = ApiJson.JsonContentType;
        _http.Response.Headers.CacheControl = "no-cache, private";
        await _http.Response.StartAsync(_http.RequestAborted);
        await _http.Response.Body.FlushAsync(_http.RequestAborted);
    }

    public Task WriteAsync(string type, T obj, CancellationToken cancellationToken)
    {
        if (!_asTable)
        {
            return WriteLineAsync(SharedWatchCodec<T>.Line(type, obj), cancellationToken);
        }

        var node = TableWriter.Build(_columns, [obj], _time.GetUtcNow(), _http.Request.Query["includeObject"], obj.Metadata.ResourceVersion, null, !_headersSent);
        _headersSent = true;
        return WriteEventAsync(type, node, cancellationToken);
    }

    public Task WriteBookmarkAsync(long revision, bool initialEventsEnd, CancellationToken cancellationToken)
    {
        var metadata = new JsonObject { ["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture) };
        if (initialEventsEnd)
        {
            metadata["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" };
        }

        return WriteEventAsync("BOOKMARK", new JsonObject { ["kind"] = _kind.Kind, ["apiVersion"] = _kind.GroupVersion, ["metadata"] = metadata }, cancellationToken);
    }

    public Task WriteErrorAsync(V1Status status, CancellationToken cancellationToken) =>
        WriteEventAsync("ERROR", ApiJson.StatusNode(status), cancellationToken);

    private Task WriteEventAsync(string type, JsonNode obj, CancellationToken cancellationToken) =>
        WriteLineAsync(Encoding.UTF8.GetBytes(new JsonObject { ["type"] = type, ["object"] = obj }.ToJsonString() + "\n"), cancellationToken);

    private async Task WriteLineAsync(byte[] line, CancellationToken cancellationToken)
    {
        await _http.Response.Body.WriteAsync(line, cancellationToken);
        await _http.Response.Body.FlushAsync(cancellationToken);
    }
}
