using System.Globalization;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// watch=true on a collection: the store's typed watch streamed as watch events, with the initial state when asked
/// for (resourceVersion unset or 0, sendInitialEvents), bookmarks (allowWatchBookmarks: at the store's progress, so a
/// watch of a collection nobody writes still advances past compaction) and timeoutSeconds; a client
/// that stops reading is dropped once its backlog passes the byte budget (<see cref="WatchBacklog{T}"/>).
/// </summary>
internal sealed class WatchHandler<T>(ResourceStore<T> store, RegistryContext context)
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    public async Task WatchAsync(HttpContext http, string? ns)
    {
        var query = http.Request.Query;
        var (labels, fields) = RequestQuery.Selectors(http, store);
        string? resourceVersion = query["resourceVersion"];
        bool sendInitial = RequestQuery.IsTrue(query["sendInitialEvents"]);
        bool bookmarks = RequestQuery.IsTrue(query["allowWatchBookmarks"]);
        long? after = null;
        if (!string.IsNullOrEmpty(resourceVersion) && resourceVersion != "0" && !sendInitial)
        {
            after = long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out long from)
                ? from
                : throw ApiException.BadRequest($"invalid resource version: {resourceVersion}");
        }

        var watch = await store.WatchAsync(ns, labels, fields, after, progress: bookmarks, http.RequestAborted);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, context.Stopping);
        if (long.TryParse(query["timeoutSeconds"], out long seconds) && seconds > 0)
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        var writer = new WatchWriter<T>(http, store.Kind.Strategy.TableColumns, context.Time, store.Kind);
        await writer.StartAsync();
        using var stopBookmarks = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        var periodic = bookmarks ? WriteBookmarksAsync(writer, stopBookmarks.Token) : Task.CompletedTask;
        try
        {
            await StreamAsync(http, writer, watch, sendInitial || bookmarks, sendInitial, timeout);
        }
        finally
        {
            await stopBookmarks.CancelAsync();
            await periodic;
        }
    }

    private async Task StreamAsync(HttpContext http, WatchWriter<T> writer, ResourceWatch<T> watch, bool bookmarkInitial, bool sendInitial, CancellationTokenSource timeout)
    {
        // A client past the budget is cut off mid-write: its connection (or HTTP/2 stream) is reset, as nothing can be
        // written to a client that does not read.
        var backlog = new WatchBacklog<T>(context.WatchBufferBytes);
        var filling = backlog.FillAsync(watch.Changes, http.Abort, timeout.Token);
        try
        {
            foreach (var item in watch.Initial)
            {
                await writer.WriteAsync(WatchEventType.Added, item, timeout.Token);
            }

            if (bookmarkInitial)
            {
                await writer.WriteBookmarkAsync(watch.Revision, initialEventsEnd: sendInitial, timeout.Token);
            }

            await foreach (var change in backlog.ReadAllAsync(timeout.Token))
            {
                if (change.Type == WatchEventType.Bookmark)
                {
                    // The store's progress: the next periodic bookmark carries it.
                    await writer.PassAsync(change.Object, timeout.Token);
                }
                else
                {
                    await writer.WriteAsync(change.Type, change.Object, timeout.Token);
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // timeoutSeconds elapsed, the client went away or the server is stopping: the stream simply ends.
        }
        catch (ApiException e)
        {
            // As kube-apiserver ends a watch it cannot continue (its history compacted away: 410 Expired; the store
            // failing): the last event is an ERROR with the Status.
            await writer.WriteErrorAsync(e.Status, CancellationToken.None);
        }
        finally
        {
            await timeout.CancelAsync();
            await filling;
        }
    }

    /// <summary>
    /// Periodic bookmarks (allowWatchBookmarks) so an idle watcher's resourceVersion stays fresh, as kube-apiserver sends
    /// them at its watch cache's progress.
    /// </summary>
    private async Task WriteBookmarksAsync(WatchWriter<T> writer, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(context.BookmarkInterval, context.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await writer.WriteProgressBookmarkAsync(cancellationToken);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The watch ended or the client went away.
        }
    }
}
