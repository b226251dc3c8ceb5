using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// Writes a watch stream: one JSON event per line, flushed at once, one writer at a time (events and periodic bookmarks). With a Table Accept header each object is a
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
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _headersSent;
    private long _lastRevision;

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

    public Task WriteAsync(WatchEventType type, T obj, CancellationToken cancellationToken)
    {
        long.TryParse(obj.Metadata.ResourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out long revision);
        if (!_asTable)
        {
            // The same bytes for every watch that sees this object.
            byte[] line = SharedWatchLines<T>.Line(type, obj);
            return WriteLineAsync(_ => line, revision, cancellationToken);
        }

        string json = TableWriter.Build(_columns, [obj], _time.GetUtcNow(), _http.Request.Query["includeObject"], obj.Metadata.ResourceVersion, null, !_headersSent).ToJsonString();
        _headersSent = true;
        return WriteEventAsync(SharedWatchLines<T>.TypeName(type), _ => json, revision, cancellationToken);
    }

    /// <summary>
    /// Records that the watch has passed <paramref name="bookmark"/>'s resourceVersion without an event for it (the
    /// store's progress), so the next periodic bookmark carries it; nothing is written now.
    /// </summary>
    public async Task PassAsync(T bookmark, CancellationToken cancellationToken)
    {
        long.TryParse(bookmark.Metadata.ResourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out long revision);
        await _gate.WaitAsync(cancellationToken);
        _lastRevision = Math.Max(_lastRevision, revision);
        _gate.Release();
    }

    public Task WriteBookmarkAsync(long revision, bool initialEventsEnd, CancellationToken cancellationToken) =>
        WriteEventAsync("BOOKMARK", _ => Bookmark(revision, initialEventsEnd).ToJsonString(), revision, cancellationToken);

    /// <summary>
    /// A bookmark at the highest resourceVersion written or passed so far: never ahead of an event the client has not
    /// been sent.
    /// </summary>
    public Task WriteProgressBookmarkAsync(CancellationToken cancellationToken) =>
        WriteEventAsync("BOOKMARK", written => Bookmark(written, false).ToJsonString(), 0, cancellationToken);

    public Task WriteErrorAsync(V1Status status, CancellationToken cancellationToken) =>
        WriteEventAsync("ERROR", _ => ApiJson.StatusNode(status).ToJsonString(), 0, cancellationToken);

    private JsonObject Bookmark(long revision, bool initialEventsEnd)
    {
        var metadata = new JsonObject { ["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture) };
        if (initialEventsEnd)
        {
            metadata["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" };
        }

        return new JsonObject { ["kind"] = _kind.Kind, ["apiVersion"] = _kind.GroupVersion, ["metadata"] = metadata };
    }

    /// <summary>Writes one event; <paramref name="build"/> (the object's JSON) gets the highest revision written before it.</summary>
    private Task WriteEventAsync(string type, Func<long, string> build, long revision, CancellationToken cancellationToken) =>
        // type is one of ADDED, MODIFIED, DELETED, BOOKMARK, ERROR: nothing to escape.
        WriteLineAsync(written => Encoding.UTF8.GetBytes($"{{\"type\":\"{type}\",\"object\":{build(written)}}}\n"), revision, cancellationToken);

    /// <summary>Writes one event line under the gate; <paramref name="build"/> gets the highest revision written before it.</summary>
    private async Task WriteLineAsync(Func<long, byte[]> build, long revision, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            byte[] line = build(_lastRevision);
            await _http.Response.Body.WriteAsync(line, cancellationToken);
            await _http.Response.Body.FlushAsync(cancellationToken);
            _lastRevision = Math.Max(_lastRevision, revision);
        }
        finally
        {
            _gate.Release();
        }
    }
}
