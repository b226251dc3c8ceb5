using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Client;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Trace;

namespace Switchboard.ApiServer.Ui;

/// <summary>
/// What every open page watches, gathered once: one informer per kind (namespaces, nodes, services, endpoint slices,
/// pods) and one reader per trace source (DNS, each node's proxy, as <c>switchboard trace</c> reads them), however
/// many browsers are open. A page subscribes and gets a snapshot (the objects, the last minute of trace events), then
/// the changes and events batched every <see cref="FlushInterval"/> as server-sent events, written once for all pages.
/// A page that does not keep up is dropped (its stream ends; it reconnects and gets a fresh snapshot), so no page
/// holds memory for the others. Started by the first subscriber, as the API server's own client (its loopback
/// credentials, as kube-apiserver's loopback client). The informers stay (an idle watch costs nothing); the trace
/// readers stop <see cref="TraceIdle"/> after the last page closed, since reading DNS's ring costs DNS a little.
/// </summary>
internal sealed partial class UiHub(Func<KubernetesClientConfiguration> config, string clusterDomain, ILoggerFactory loggerFactory, TimeProvider time) : IAsyncDisposable
{
    /// <summary>How often changes and trace events go out: a change reaches the page well within a second.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>How far back the trace events a new page gets go: the service map weighs the last minute.</summary>
    private static readonly TimeSpan TraceWindow = TimeSpan.FromMinutes(1);

    /// <summary>How long the trace is read on after the last page closed: a reload does not lose the last minute.</summary>
    private static readonly TimeSpan TraceIdle = TimeSpan.FromSeconds(30);

    private const int MaxRecentEvents = 20_000;
    private const int SubscriberBacklog = 256;

    private readonly ILogger _logger = loggerFactory.CreateLogger<UiHub>();
    private readonly Lock _gate = new();
    private readonly List<Channel<string>> _subscribers = [];
    private readonly Dictionary<string, JsonObject> _objects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, V1EndpointSlice>> _slices = new(StringComparer.Ordinal);
    private readonly List<JsonObject> _changes = [];
    private readonly Queue<(DateTimeOffset Seen, JsonObject Event)> _recent = new();
    private readonly List<JsonObject> _events = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<string> _synced = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private Task? _running;
    private CancellationTokenSource? _tracing;
    private DateTimeOffset _lastWatched;

    /// <summary>The kinds whose first list has arrived: until all have, the page says it is loading.</summary>
    private static readonly string[] Kinds = ["namespace", "node", "service", "endpoints", "pod"];

    /// <summary>A stream for one page: its first message is the snapshot, then batches; it ends if the page falls behind.</summary>
    public ChannelReader<string> Subscribe()
    {
        var channel = Channel.CreateBounded<string>(new BoundedChannelOptions(SubscriberBacklog) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        lock (_gate)
        {
            _running ??= Task.Run(() => RunAsync(_stop.Token));
            DateTimeOffset since = time.GetUtcNow() - TraceWindow;
            var snapshot = new JsonObject
            {
                ["objects"] = new JsonArray([.. _objects.Values.Select(o => o.DeepClone())]),
                ["events"] = new JsonArray([.. _recent.Where(r => r.Seen >= since).Select(r => r.Event.DeepClone())]),
                ["synced"] = _synced.Count == Kinds.Length,
            };
            channel.Writer.TryWrite(Frame("snapshot", snapshot.ToJsonString()));
            _subscribers.Add(channel);
            if (_tracing is null)
            {
                _tracing = new CancellationTokenSource();
                if (_wake.CurrentCount == 0)
                {
                    _wake.Release();
                }
            }
        }

        return channel.Reader;
    }

    public void Unsubscribe(ChannelReader<string> reader)
    {
        lock (_gate)
        {
            _subscribers.RemoveAll(c => c.Reader == reader);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_running is not null)
        {
            await _running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        lock (_gate)
        {
            foreach (var channel in _subscribers)
            {
                channel.Writer.TryComplete();
            }

            _subscribers.Clear();
            _tracing?.Dispose();
            _tracing = null;
        }

        _stop.Dispose();
        _wake.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        using Kubernetes client = KubeClients.FromKubeconfig(config());
        var namespaces = Watch(new Informer<V1Namespace>(ListWatches.Namespaces(client), loggerFactory.CreateLogger<Informer<V1Namespace>>(), time), "namespace", UiObjects.Namespace);
        var nodes = Watch(new Informer<V1Node>(ListWatches.Nodes(client), loggerFactory.CreateLogger<Informer<V1Node>>(), time), "node", UiObjects.Node);
        var services = Watch(new Informer<V1Service>(ListWatches.Services(client), loggerFactory.CreateLogger<Informer<V1Service>>(), time), "service", s => UiObjects.Service(s, clusterDomain));
        var pods = Watch(new Informer<V1Pod>(ListWatches.Pods(client), loggerFactory.CreateLogger<Informer<V1Pod>>(), time), "pod", UiObjects.Pod);
        var slices = new Informer<V1EndpointSlice>(ListWatches.EndpointSlices(client), loggerFactory.CreateLogger<Informer<V1EndpointSlice>>(), time);
        slices.AddHandler(s => SetSlice(s, s), (_, s) => SetSlice(s, s), s => SetSlice(s, null));

        Task informers = Task.WhenAll(namespaces.RunAsync(stop), nodes.RunAsync(stop), services.RunAsync(stop), pods.RunAsync(stop), slices.RunAsync(stop));
        Task synced = Task.WhenAll(
            Synced(namespaces.WaitForSyncAsync(stop), "namespace"),
            Synced(nodes.WaitForSyncAsync(stop), "node"),
            Synced(services.WaitForSyncAsync(stop), "service"),
            Synced(slices.WaitForSyncAsync(stop), "endpoints"),
            Synced(pods.WaitForSyncAsync(stop), "pod"));
        Task trace = TraceAsync(client, stop);
        try
        {
            using var timer = new PeriodicTimer(FlushInterval, time);
            while (await timer.WaitForNextTickAsync(stop))
            {
                Flush();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Closing.
        }

        await Task.WhenAll(informers, synced, trace).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private Informer<T> Watch<T>(Informer<T> informer, string kind, Func<T, JsonObject> summary)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        informer.AddHandler(o => Set(kind, ObjectKey.Of(o), summary(o)), (_, o) => Set(kind, ObjectKey.Of(o), summary(o)), o => Set(kind, ObjectKey.Of(o), null));
        return informer;
    }

    private async Task Synced(Task sync, string kind)
    {
        await sync;
        lock (_gate)
        {
            _synced.Add(kind);
            if (_synced.Count == Kinds.Length)
            {
                _changes.Add(new JsonObject { ["synced"] = true });
            }
        }
    }

    /// <summary>A Service's endpoints are those of all its slices: a slice's change sends the Service's whole list again.</summary>
    private void SetSlice(V1EndpointSlice slice, V1EndpointSlice? current)
    {
        if (slice.Metadata.Labels is null || !slice.Metadata.Labels.TryGetValue("kubernetes.io/service-name", out string? service))
        {
            return;
        }

        string key = ObjectKey.Of(slice.Metadata.NamespaceProperty, service);
        lock (_gate)
        {
            if (!_slices.TryGetValue(key, out var byName))
            {
                _slices[key] = byName = new(StringComparer.Ordinal);
            }

            if (current is null)
            {
                byName.Remove(slice.Metadata.Name);
            }
            else
            {
                byName[slice.Metadata.Name] = current;
            }

            if (byName.Count == 0)
            {
                _slices.Remove(key);
            }

            Set("endpoints", key, byName.Count == 0 ? null : new JsonObject { ["namespace"] = slice.Metadata.NamespaceProperty, ["service"] = service, ["endpoints"] = UiObjects.Endpoints(byName.Values) });
        }
    }

    private void Set(string kind, string key, JsonObject? value)
    {
        var change = new JsonObject { ["kind"] = kind, ["key"] = key, ["value"] = value };
        lock (_gate)
        {
            if (value is null)
            {
                _objects.Remove(kind + " " + key);
            }
            else
            {
                _objects[kind + " " + key] = change;
            }

            _changes.Add(change.DeepClone().AsObject());
        }
    }

    /// <summary>Sends what came since the last flush to every page, serialised once; a page whose backlog is full is dropped.</summary>
    private void Flush()
    {
        lock (_gate)
        {
            DateTimeOffset now = time.GetUtcNow();
            if (_subscribers.Count > 0)
            {
                _lastWatched = now;
            }
            else if (_tracing is not null && now - _lastWatched >= TraceIdle)
            {
                // Not disposed: a reader may still be linking to its token; a canceled source holds nothing.
                _tracing.Cancel();
                _tracing = null;
            }

            DateTimeOffset cutoff = now - TraceWindow;
            while (_recent.Count > 0 && (_recent.Peek().Seen < cutoff || _recent.Count > MaxRecentEvents))
            {
                _recent.Dequeue();
            }

            if (_changes.Count == 0 && _events.Count == 0)
            {
                return;
            }

            var frames = new StringBuilder();
            if (_changes.Count > 0)
            {
                frames.Append(Frame("changes", new JsonArray([.. _changes]).ToJsonString()));
            }

            if (_events.Count > 0)
            {
                frames.Append(Frame("trace", new JsonArray([.. _events.Select(e => e.DeepClone())]).ToJsonString()));
            }

            _changes.Clear();
            _events.Clear();
            string batch = frames.ToString();
            for (int i = _subscribers.Count - 1; i >= 0; i--)
            {
                if (!_subscribers[i].Writer.TryWrite(batch))
                {
                    _subscribers[i].Writer.TryComplete();
                    _subscribers.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>
    /// Every trace source, followed, the pods named as <c>switchboard trace</c> names them; a source that ends or fails
    /// is read again after a pause from the event after the last one seen, and new nodes' proxies are picked up.
    /// </summary>
    private async Task TraceAsync(Kubernetes client, CancellationToken stop)
    {
        var source = new TraceSource(config());
        var annotations = new TracePods(client, time);
        var events = Channel.CreateBounded<JsonObject>(new BoundedChannelOptions(MaxRecentEvents) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        var readers = new Dictionary<string, Task>(StringComparer.Ordinal);
        Task consumer = Task.Run(
            async () =>
            {
                await foreach (JsonObject e in events.Reader.ReadAllAsync(stop))
                {
                    if ((string?)e["type"] == "lost")
                    {
                        continue;
                    }

                    await annotations.AnnotateAsync(e, stop);
                    lock (_gate)
                    {
                        _recent.Enqueue((time.GetUtcNow(), e));
                        _events.Add(e);
                    }
                }
            },
            stop);
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                CancellationToken tracing;
                lock (_gate)
                {
                    tracing = _tracing?.Token ?? CancellationToken.None;
                }

                if (tracing.CanBeCanceled)
                {
                    try
                    {
                        foreach (string path in await TraceSource.PathsAsync(client, stop))
                        {
                            if (!readers.TryGetValue(path, out Task? reader) || reader.IsCompleted)
                            {
                                readers[path] = FollowAsync(source, path, seen, events.Writer, tracing, stop);
                            }
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException)
                    {
                        LogTraceUnavailable(_logger, "nodes", e.Message);
                    }
                }

                // New nodes' proxies every few seconds; at once when a page opens while nothing is read.
                await _wake.WaitAsync(TimeSpan.FromSeconds(5), stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Closing.
        }

        await Task.WhenAll([consumer, .. readers.Values]).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>One source followed while pages watch (<paramref name="tracing"/>), from the event after the last one seen there.</summary>
    private async Task FollowAsync(
        TraceSource source, string path, System.Collections.Concurrent.ConcurrentDictionary<string, long> seen, ChannelWriter<JsonObject> events, CancellationToken tracing, CancellationToken stop)
    {
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(tracing, stop);
        while (!reading.IsCancellationRequested)
        {
            try
            {
                // The first time the whole ring (the last minute is what the page shows), later from where it stopped.
                long last = seen.GetValueOrDefault(path, -1);
                await foreach (JsonObject e in source.ReadAsync(path, follow: true, last: last >= 0 ? long.MaxValue / 2 : 4096, reading.Token))
                {
                    if ((long?)e["sequence"] is not { } sequence || sequence > last)
                    {
                        last = Math.Max(last, (long?)e["sequence"] ?? last);
                        seen[path] = last;
                        events.TryWrite(e);
                    }
                }
            }
            catch (Exception e) when (e is TraceUnavailableException or HttpRequestException or IOException)
            {
                LogTraceUnavailable(_logger, path, e.Message);
            }
            catch (OperationCanceledException) when (reading.IsCancellationRequested)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromSeconds(2), time, reading.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static string Frame(string name, string json) => $"event: {name}\ndata: {json}\n\n";

    [LoggerMessage(EventId = 1100, Level = LogLevel.Debug, Message = "web view: trace source {Source} not read: {Error}")]
    private static partial void LogTraceUnavailable(ILogger logger, string source, string error);
}
