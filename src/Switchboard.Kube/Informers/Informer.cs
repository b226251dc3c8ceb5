using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Switchboard.Kube.Informers;

/// <summary>
/// Keeps <see cref="Cache"/> equal to one collection on the server: lists, then watches from the list's
/// resourceVersion; re-lists when the server says the version is gone (410); re-watches with exponential backoff
/// after errors; optionally re-delivers every object periodically (resync). Handlers run one at a time, in order,
/// after the cache has the change. Several components may share one informer (<see cref="SharedInformerSet"/>): each
/// runs it, and the list and watch run once, until the last of them stops. Objects are cached without their
/// managedFields, which no component reads (kube-proxy and CoreDNS strip them with an informer transform too): they
/// were about 1 KB of every cached Service (a JsonDocument per entry), and a write of a cached object without them
/// keeps the stored ones, as kube-apiserver does.
/// </summary>
public sealed partial class Informer<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly ListWatch<T> _source;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly InformerOptions _options;
    private readonly Lock _dispatch = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _kind = typeof(T).Name;
    private readonly Lock _run = new();
    private ResourceEventHandler<T>[] _handlers = [];
    private int _lists;
    private TimeSpan _resyncPeriod;
    private PeriodicTimer? _resyncTimer;
    private Task? _running;
    private CancellationTokenSource? _stopRunning;
    private int _runners;

    public Informer(ListWatch<T> source, ILogger logger, TimeProvider? time = null, InformerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(logger);
        _source = source;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _options = options ?? new InformerOptions();
        _resyncPeriod = _options.ResyncPeriod;
    }

    public InformerCache<T> Cache { get; } = new();

    /// <summary>Whether the first list has been stored in the cache and delivered to the handlers.</summary>
    public bool HasSynced => _synced.Task.IsCompleted;

    /// <summary>How many times the informer has listed the collection (the first time plus every re-list).</summary>
    public int ListCount => Volatile.Read(ref _lists);

    /// <summary>The resourceVersion of the last list, watch event or bookmark seen.</summary>
    public string? ResourceVersion { get; private set; }

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _synced.Task.WaitAsync(cancellationToken);

    /// <summary>Registers handlers; objects already in a synced cache are replayed to them as adds.</summary>
    public void AddHandler(Action<T>? onAdd = null, Action<T, T>? onUpdate = null, Action<T>? onDelete = null)
    {
        var handler = new ResourceEventHandler<T>(onAdd, onUpdate, onDelete);
        lock (_dispatch)
        {
            _handlers = [.. _handlers, handler];
            if (HasSynced)
            {
                foreach (var obj in Cache.List())
                {
                    Invoke(() => handler.OnAdd?.Invoke(obj));
                }
            }
        }
    }

    /// <summary>Resyncs at least every <paramref name="period"/> from now on (a component sharing the informer asks for it).</summary>
    public void ResyncAtLeastEvery(TimeSpan period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        lock (_run)
        {
            if (_resyncPeriod > TimeSpan.Zero && _resyncPeriod <= period)
            {
                return;
            }

            _resyncPeriod = period;
            if (_resyncTimer is not null)
            {
                _resyncTimer.Period = period;
            }
        }
    }

    /// <summary>Runs until cancelled; the list and watch go on while any other caller still runs it.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Task running;
        lock (_run)
        {
            if (_runners++ == 0)
            {
                _stopRunning = new CancellationTokenSource();
                _running = RunOnceAsync(_stopRunning.Token);
            }

            running = _running!;
        }

        try
        {
            await running.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // This caller stopped; the others may still be running it.
        }
        finally
        {
            CancellationTokenSource? stop = null;
            lock (_run)
            {
                if (--_runners == 0)
                {
                    (stop, _stopRunning, _running) = (_stopRunning, null, null);
                }
            }

            if (stop is not null)
            {
                await stop.CancelAsync();
                await running;
                stop.Dispose();
            }
        }
    }

    private async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        using var resync = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var resyncLoop = ResyncLoopAsync(resync.Token);
        try
        {
            await ListAndWatchLoopAsync(cancellationToken);
        }
        finally
        {
            await resync.CancelAsync();
            await resyncLoop;
        }
    }

    private async Task ListAndWatchLoopAsync(CancellationToken cancellationToken)
    {
        int failures = 0;
        string? resourceVersion = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (resourceVersion is null)
                {
                    var page = await _source.List(cancellationToken);
                    Interlocked.Increment(ref _lists);
                    Replace(page.Items);
                    resourceVersion = ResourceVersion = page.ResourceVersion;
                    _synced.TrySetResult();
                    LogListed(_logger, _kind, page.Items.Count, resourceVersion);
                }

                bool gone = false;
                int events = 0;
                Exception? inBand = null;
                void OnError(Exception e)
                {
                    if (IsGone(e))
                    {
                        gone = true;
                    }
                    else
                    {
                        inBand ??= e;
                    }
                }

                await foreach (var (type, obj) in _source.Watch(resourceVersion, _options.WatchTimeoutSeconds, OnError, cancellationToken))
                {
                    Apply(type, obj);
                    resourceVersion = ResourceVersion = obj.Metadata?.ResourceVersion ?? resourceVersion;
                    failures = 0;
                    events++;
                }

                if (gone)
                {
                    LogGone(_logger, _kind, resourceVersion);
                    resourceVersion = null;
                }
                else if (inBand is not null)
                {
                    throw inBand;
                }
                else if (events == 0)
                {
                    // A watch that ends without a single event is not allowed to turn into a busy loop.
                    failures++;
                    await Task.Delay(Backoff(failures), _time, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (IsGone(e))
            {
                LogGone(_logger, _kind, resourceVersion);
                resourceVersion = null;
            }
            catch (Exception e)
            {
                failures++;
                var delay = Backoff(failures);
                LogRetry(_logger, _kind, delay, e);
                try
                {
                    await Task.Delay(delay, _time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private TimeSpan Backoff(int failures)
    {
        double factor = Math.Pow(2, Math.Min(failures - 1, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(_options.InitialBackoff.Ticks * factor, _options.MaxBackoff.Ticks));
        return delay;
    }

    private static bool IsGone(Exception e) => e switch
    {
        HttpOperationException http => http.Response?.StatusCode == HttpStatusCode.Gone,
        KubernetesException status => status.Status?.Code == (int)HttpStatusCode.Gone,
        _ => false,
    };

    private void Apply(WatchEventType type, T obj)
    {
        lock (_dispatch)
        {
            switch (type)
            {
                case WatchEventType.Added or WatchEventType.Modified:
                    var old = Cache.Upsert(Trimmed(obj));
                    Deliver(old, obj);
                    break;
                case WatchEventType.Deleted:
                    var removed = Cache.Remove(ObjectKey.Of(obj));
                    Deliver(removed ?? obj, null);
                    break;
                default:
                    // Bookmarks only move the resourceVersion.
                    break;
            }
        }
    }

    /// <summary>Makes the cache equal to a fresh list, delivering the difference.</summary>
    /// <remarks>
    /// An object whose resourceVersion did not change stays the cached one: the handlers were never told of the listed
    /// copy, so the objects they keep (DNS's index, the proxy's catalog) are the cached ones, and a re-list after 410
    /// Gone would otherwise leave two copies of every object alive.
    /// </remarks>
    private void Replace(IReadOnlyList<T> items)
    {
        lock (_dispatch)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var obj in items)
            {
                string key = ObjectKey.Of(obj);
                seen.Add(key);
                if (Cache.Get(key) is { } cached && cached.Metadata.ResourceVersion == obj.Metadata.ResourceVersion)
                {
                    continue;
                }

                Deliver(Cache.Upsert(Trimmed(obj)), obj);
            }

            foreach (string key in Cache.Keys())
            {
                if (!seen.Contains(key) && Cache.Remove(key) is { } removed)
                {
                    Deliver(removed, null);
                }
            }
        }
    }

    /// <summary>The object as the cache keeps it: without managedFields (see the type's summary), its repeated strings shared.</summary>
    private static T Trimmed(T obj)
    {
        obj.Metadata?.ManagedFields = null;
        SharedStrings.Share(obj);
        return obj;
    }

    /// <summary>Re-delivers every cached object each resync period; idle (an infinite period) until one is asked for.</summary>
    private async Task ResyncLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Timeout.InfiniteTimeSpan, _time);
        lock (_run)
        {
            timer.Period = _resyncPeriod > TimeSpan.Zero ? _resyncPeriod : Timeout.InfiniteTimeSpan;
            _resyncTimer = timer;
        }

        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                if (!HasSynced)
                {
                    continue;
                }

                lock (_dispatch)
                {
                    foreach (var obj in Cache.List())
                    {
                        Deliver(obj, obj);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped with the informer.
        }
        finally
        {
            lock (_run)
            {
                _resyncTimer = null;
            }
        }
    }

    private void Deliver(T? old, T? current)
    {
        foreach (var handler in _handlers)
        {
            if (old is null && current is not null)
            {
                Invoke(() => handler.OnAdd?.Invoke(current));
            }
            else if (old is not null && current is not null)
            {
                Invoke(() => handler.OnUpdate?.Invoke(old, current));
            }
            else if (old is not null)
            {
                Invoke(() => handler.OnDelete?.Invoke(old));
            }
        }
    }

    private void Invoke(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            LogHandlerFailed(_logger, _kind, e);
        }
    }

    [LoggerMessage(EventId = 7000, Level = LogLevel.Debug, Message = "Listed {Count} {Kind} at resourceVersion {ResourceVersion}")]
    private static partial void LogListed(ILogger logger, string kind, int count, string resourceVersion);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Watch of {Kind} from {ResourceVersion} expired (410 Gone); listing again")]
    private static partial void LogGone(ILogger logger, string kind, string? resourceVersion);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "List/watch of {Kind} failed; retrying in {Delay}")]
    private static partial void LogRetry(ILogger logger, string kind, TimeSpan delay, Exception error);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Error, Message = "A {Kind} event handler failed")]
    private static partial void LogHandlerFailed(ILogger logger, string kind, Exception error);
}
