using System.Collections.Concurrent;
using Grpc.Core;
using Switchboard.EtcdFront.Protocol;
using Switchboard.Storage;

namespace Switchboard.EtcdFront.Grpc;

/// <summary>
/// The watches of one Watch stream. Each runs a store watch from its start revision, filtered to its interval and
/// filters, and sends what the store has ready in one response (a transaction's events together), in revision order;
/// responses of all watches go out one at a time. A start below the compacted revision ends the watch with etcd's
/// compacted response (canceled, compact_revision set).
/// </summary>
internal sealed class WatchSession(
    IKeyValueStore store, FrontIdentity identity, IServerStreamWriter<WatchResponse> stream, TimeSpan progressInterval, TimeProvider time, CancellationToken streamToken)
    : IAsyncDisposable
{
    /// <summary>The most events one response carries.</summary>
    private const int MaxEventsPerResponse = 1000;

    /// <summary>How often a watch without events learns the store's progress, which a progress request or notification reports.</summary>
    private static readonly TimeSpan StoreProgressInterval = TimeSpan.FromMilliseconds(100);

    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly ConcurrentDictionary<long, ActiveWatch> _watches = new();
    private long _nextId;

    public async Task HandleAsync(WatchRequest request)
    {
        switch (request.RequestUnionCase)
        {
            case WatchRequest.RequestUnionOneofCase.CreateRequest:
                await CreateAsync(request.CreateRequest);
                break;
            case WatchRequest.RequestUnionOneofCase.CancelRequest:
                await CancelAsync(request.CancelRequest.WatchId);
                break;
            case WatchRequest.RequestUnionOneofCase.ProgressRequest:
                // etcd answers a progress request with watch id -1 and a revision every watch of the stream has passed.
                long revision = _watches.Count == 0 ? await store.GetRevisionAsync(streamToken) : _watches.Values.Min(w => w.SafeRevision);
                await SendAsync(new WatchResponse { Header = identity.Header(revision), WatchId = -1 });
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var watch in _watches.Values)
        {
            await watch.StopAsync();
        }

        _send.Dispose();
    }

    private async Task CreateAsync(WatchCreateRequest request)
    {
        long id = request.WatchId;
        if (id != 0 && _watches.ContainsKey(id))
        {
            await SendAsync(new WatchResponse
            {
                Header = identity.Header(await store.GetRevisionAsync(streamToken)),
                WatchId = id,
                Created = true,
                Canceled = true,
                CancelReason = "etcdserver: duplicate watch ID provided on the WatchStream",
            });
            return;
        }

        if (id == 0)
        {
            while (_watches.ContainsKey(_nextId))
            {
                _nextId++;
            }

            id = _nextId++;
        }

        var interval = FrontKeys.Interval(request.Key, request.RangeEnd);
        long current = await store.GetRevisionAsync(streamToken);
        long after = request.StartRevision > 0 ? request.StartRevision - 1 : current;
        var watch = new ActiveWatch(id, interval, request, after, CancellationTokenSource.CreateLinkedTokenSource(streamToken));
        _watches[id] = watch;
        await SendAsync(new WatchResponse { Header = identity.Header(current), WatchId = id, Created = true });
        watch.Run = Task.Run(() => PumpAsync(watch));
        if (request.ProgressNotify)
        {
            watch.Progress = Task.Run(() => NotifyProgressAsync(watch));
        }
    }

    private async Task CancelAsync(long id)
    {
        if (!_watches.TryRemove(id, out var watch))
        {
            return;
        }

        await watch.StopAsync();
        await SendAsync(new WatchResponse { Header = identity.Header(await store.GetRevisionAsync(streamToken)), WatchId = id, Canceled = true });
    }

    private async Task PumpAsync(ActiveWatch watch)
    {
        var token = watch.Stopping.Token;
        bool noPut = watch.Request.Filters.Contains(WatchCreateRequest.Types.FilterType.Noput);
        bool noDelete = watch.Request.Filters.Contains(WatchCreateRequest.Types.FilterType.Nodelete);
        try
        {
            await using var events = store.WatchAsync(watch.Interval.WatchPrefix(), watch.After, StoreProgressInterval, token).GetAsyncEnumerator(token);
            var batch = new List<Event>();
            long last = watch.After;
            var next = events.MoveNextAsync();
            while (true)
            {
                if (!next.IsCompleted && batch.Count > 0)
                {
                    await FlushAsync(watch, batch, last);
                }

                if (!next.IsCompleted)
                {
                    watch.Idle = true;
                }

                if (!await next)
                {
                    return;
                }

                watch.Idle = false;
                var change = events.Current;
                if (change.Type == WatchEventType.Progress)
                {
                    // Only once the events before it are sent is the watch past it.
                    if (batch.Count > 0)
                    {
                        await FlushAsync(watch, batch, last);
                    }

                    watch.Passed = change.Revision;
                    next = events.MoveNextAsync();
                    continue;
                }

                last = change.Revision;
                if (watch.Interval.Contains(change.Current.Key) && !(change.Type == WatchEventType.Deleted ? noDelete : noPut))
                {
                    batch.Add(ToEvent(change, watch.Request.PrevKv));
                }

                if (batch.Count >= MaxEventsPerResponse)
                {
                    await FlushAsync(watch, batch, last);
                }

                next = events.MoveNextAsync();
            }
        }
        catch (StorageException e) when (e.Error == StorageError.Compacted)
        {
            await SendAsync(new WatchResponse
            {
                Header = identity.Header(await store.GetRevisionAsync(streamToken)),
                WatchId = watch.Id,
                Canceled = true,
                CompactRevision = e.Revision,
                CancelReason = FrontErrors.Compacted,
            });
        }
        catch (StorageException e)
        {
            await SendAsync(new WatchResponse { Header = identity.Header(watch.SafeRevision), WatchId = watch.Id, Canceled = true, CancelReason = "etcdserver: " + e.Message });
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Canceled by the client, or the stream ended.
        }
    }

    private async Task FlushAsync(ActiveWatch watch, List<Event> batch, long revision)
    {
        var response = new WatchResponse { Header = identity.Header(revision), WatchId = watch.Id };
        response.Events.AddRange(batch);
        batch.Clear();
        await SendAsync(response);
        watch.Delivered = revision;
    }

    /// <summary>
    /// etcd's progress notification for a watch without events: after an interval in which nothing was sent on it, an
    /// empty response carrying a revision the watch has passed (the store's progress, <see cref="ActiveWatch.Passed"/>).
    /// </summary>
    private async Task NotifyProgressAsync(ActiveWatch watch)
    {
        var token = watch.Stopping.Token;
        using var timer = new PeriodicTimer(progressInterval, time);
        long sentBefore = -1;
        try
        {
            while (await timer.WaitForNextTickAsync(token))
            {
                if (watch.Idle && watch.Sent == sentBefore)
                {
                    await SendAsync(new WatchResponse { Header = identity.Header(watch.SafeRevision), WatchId = watch.Id });
                }

                sentBefore = watch.Sent;
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    private Event ToEvent(WatchEvent change, bool withPrevious)
    {
        var e = new Event
        {
            Type = change.Type == WatchEventType.Deleted ? Event.Types.EventType.Delete : Event.Types.EventType.Put,
            Kv = change.Type == WatchEventType.Deleted
                ? new Protocol.KeyValue { Key = FrontKeys.Bytes(change.Current.Key), ModRevision = change.Revision }
                : KvService.ToProto(change.Current),
        };
        if (withPrevious && change.Previous is not null)
        {
            e.PrevKv = KvService.ToProto(change.Previous);
        }

        return e;
    }

    private async Task SendAsync(WatchResponse response)
    {
        await _send.WaitAsync(streamToken);
        try
        {
            await stream.WriteAsync(response, streamToken);
        }
        finally
        {
            _send.Release();
        }

        if (_watches.TryGetValue(response.WatchId, out var watch))
        {
            watch.CountSent();
        }
    }

    /// <summary>One watch of the stream and its tasks.</summary>
    private sealed class ActiveWatch(long id, FrontInterval interval, WatchCreateRequest request, long after, CancellationTokenSource stopping)
    {
        public long Id { get; } = id;

        public FrontInterval Interval { get; } = interval;

        public WatchCreateRequest Request { get; } = request;

        /// <summary>The revision the watch starts after.</summary>
        public long After { get; } = after;

        public CancellationTokenSource Stopping { get; } = stopping;

        public Task Run { get; set; } = Task.CompletedTask;

        public Task Progress { get; set; } = Task.CompletedTask;

        /// <summary>The revision of the last event sent.</summary>
        public long Delivered
        {
            get => Interlocked.Read(ref _delivered);
            set => Interlocked.Exchange(ref _delivered, value);
        }

        /// <summary>A revision the watch is known to have passed without events for it: the store's progress.</summary>
        public long Passed
        {
            get => Interlocked.Read(ref _passed);
            set => Interlocked.Exchange(ref _passed, value);
        }

        public long SafeRevision => Math.Max(Delivered, Passed);

        private volatile bool _idle;
        private long _delivered = after;
        private long _passed = after;
        private long _sent;

        /// <summary>Whether the watch is waiting for the store's next event, everything before it sent.</summary>
        public bool Idle
        {
            get => _idle;
            set => _idle = value;
        }

        /// <summary>How many responses of this watch were sent.</summary>
        public long Sent => Interlocked.Read(ref _sent);

        public void CountSent() => Interlocked.Increment(ref _sent);

        public async Task StopAsync()
        {
            await Stopping.CancelAsync();
            await Task.WhenAll(Run, Progress).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            Stopping.Dispose();
        }
    }
}
