using System.Security.Cryptography;
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
/// What every open page watches, gathered once: the process's informers on namespaces, nodes, services, endpoint
/// slices and pods (in <c>up</c> the ones the controllers, DNS and proxy share; alone, the API server's own, through the
/// same <see cref="SharedInformerSet"/>), and the trace read from each node's proxy (while a page is open) and from DNS
/// (while a page shows a Service's flow, and only the queries about the Services shown). The trace is aggregated once
/// (<see cref="UiFlows"/>). Every <see cref="FlushInterval"/> each page is sent, as server-sent events: the object
/// changes its identity may list (<see cref="UiAccess"/>), the service map's edges that changed, and the flow of the one
/// Service it shows, with at most <see cref="EventsPerFlush"/> connections and as many DNS queries (the counters count
/// the rest). A page that does not keep up gets aggregates, not a backlog (<see cref="UiPage"/>). The trace readers
/// stop <see cref="TraceIdle"/> after the last page (or flow) closed, since reading DNS's ring costs DNS a little.
/// </summary>
internal sealed partial class UiHub : IAsyncDisposable
{
    /// <summary>How often changes and trace events go out: a change reaches the page well within a second.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest a page's stream lives before it reconnects, and its identity's access is decided again (kube-apiserver's watch timeout).</summary>
    public static readonly TimeSpan MaxStream = TimeSpan.FromMinutes(30);

    /// <summary>Connections (and as many DNS queries) a page is sent per flush: 250 a second each, more than a reader follows.</summary>
    public const int EventsPerFlush = 25;

    /// <summary>How long the trace is read on after the last page closed: a reload does not lose the last minute.</summary>
    private static readonly TimeSpan TraceIdle = TimeSpan.FromSeconds(30);

    private const int MaxPendingEvents = 20_000;
    private const string PodIpIndex = "ui-pod-ip";

    /// <summary>The kinds whose first list has arrived: until all have, the page says it is loading.</summary>
    private static readonly string[] Kinds = ["namespace", "node", "service", "endpoints", "pod"];

    private readonly KubeClientSource _clients;
    private readonly bool _ownsClients;
    private readonly Func<KubernetesClientConfiguration> _config;
    private readonly string _clusterDomain;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, UiPage> _pages = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Summary> _objects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, V1EndpointSlice>> _slices = new(StringComparer.Ordinal);
    private readonly List<Summary> _changes = [];
    private readonly UiFlows _flows;
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<string> _synced = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private Informer<V1Pod>? _pods;
    private Task? _running;
    private CancellationTokenSource? _tracing;
    private CancellationTokenSource? _dnsTracing;
    private DateTimeOffset _lastWatched;
    private DateTimeOffset _lastFlowWatched;
    private string[] _dnsServices = [];
    private CancellationTokenSource? _dnsReader;

    /// <summary>
    /// A hub on <c>clients</c>' informers (the process's, in <c>up</c>; null: its own, made from <c>config</c>, the
    /// API server's loopback configuration, which the trace is read with).
    /// </summary>
    public UiHub(KubeClientSource? clients, Func<KubernetesClientConfiguration> config, string clusterDomain, ILoggerFactory loggerFactory, TimeProvider time)
    {
        _ownsClients = clients is null;
        _clients = clients ?? new KubeClientSource(() => KubeClients.FromKubeconfig(config()));
        _config = config;
        _clusterDomain = clusterDomain;
        _loggerFactory = loggerFactory;
        _time = time;
        _logger = loggerFactory.CreateLogger<UiHub>();
        _flows = new UiFlows(clusterDomain);
    }

    /// <summary>A stream for one page: its first message is the snapshot of what <paramref name="access"/> may see, then batches.</summary>
    public ChannelReader<string> Subscribe(string session, UiAccess access, out string id)
    {
        id = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var page = new UiPage(id, session, access, _time.GetUtcNow());
        lock (_gate)
        {
            _running ??= Task.Run(() => RunAsync(_stop.Token));
            var snapshot = new StringBuilder(64 * 1024);
            snapshot.Append("{\"stream\":\"").Append(id).Append("\",\"trace\":").Append(access.MayTrace ? "true" : "false")
                .Append(",\"synced\":").Append(_synced.Count == Kinds.Length ? "true" : "false").Append(",\"objects\":[");
            snapshot.AppendJoin(',', _objects.Values.Where(o => access.MayList(o.Kind, o.Namespace)).Select(o => o.Json));
            snapshot.Append("],\"edges\":[");
            if (access.MayTrace)
            {
                snapshot.AppendJoin(',', _flows.AllEdges().Where(e => access.MayList("service", e.Namespace)).Select(e => e.Json));
            }

            snapshot.Append("]}");
            page.Stream.Writer.TryWrite(Frame("snapshot", snapshot.ToString()));
            _pages.Add(id, page);
            if (_tracing is null)
            {
                _tracing = new CancellationTokenSource();
                Wake();
            }
        }

        return page.Stream.Reader;
    }

    public void Unsubscribe(string id)
    {
        lock (_gate)
        {
            _pages.Remove(id);
            UpdateDnsServices();
        }
    }

    /// <summary>
    /// Makes stream <paramref name="id"/> of <paramref name="session"/> show the flow of <paramref name="service"/>
    /// (namespace/name; null: none). False when there is no such stream of that session; a Service whose flow its
    /// identity may not see is refused with the reason.
    /// </summary>
    public bool SelectFlow(string id, string session, string? service, out string? refused)
    {
        refused = null;
        lock (_gate)
        {
            if (!_pages.TryGetValue(id, out UiPage? page) || page.Session != session)
            {
                return false;
            }

            if (service is not null && ObjectKey.Split(service) is var (ns, _) && !page.Access.MaySeeFlow(ns ?? ""))
            {
                refused = page.Access.MayTrace
                    ? $"User \"{page.Access.User.Name}\" cannot list resource \"services\" in API group \"\" in the namespace \"{ns}\""
                    : $"User \"{page.Access.User.Name}\" cannot get resource \"nodes/proxy\" in API group \"\" at the cluster scope: the trace is read through the nodes' proxy";
                return true;
            }

            page.Flow = service;
            page.FlowStale = page.FlowChosen = service is not null;
            UpdateDnsServices();
            if (service is not null && _dnsTracing is null)
            {
                _dnsTracing = new CancellationTokenSource();
                Wake();
            }

            return true;
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
            foreach (UiPage page in _pages.Values)
            {
                page.Stream.Writer.TryComplete();
            }

            _pages.Clear();
            _tracing?.Dispose();
            _tracing = null;
            _dnsTracing?.Dispose();
            _dnsTracing = null;
            _dnsReader?.Dispose();
            _dnsReader = null;
        }

        if (_ownsClients)
        {
            _clients.Dispose();
        }

        _stop.Dispose();
        _wake.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        try
        {
            await RunHubAsync(stop);
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            // Pages then see no changes: said once, loudly, rather than a page that silently stops updating.
            LogHubFailed(_logger, e);
            throw;
        }
    }

    private async Task RunHubAsync(CancellationToken stop)
    {
        Informer<T> Get<T>(Func<IKubernetes, ListWatch<T>> listWatch)
            where T : class, IKubernetesObject<V1ObjectMeta> => _clients.Informers.Get(() => listWatch(_clients.Client), _loggerFactory, _time);

        var namespaces = Watch(Get(ListWatches.Namespaces), "namespace", UiObjects.Namespace);
        var nodes = Watch(Get(ListWatches.Nodes), "node", UiObjects.Node);
        var services = Watch(Get(ListWatches.Services), "service", s => UiObjects.Service(s, _clusterDomain));
        var pods = Watch(Get(c => ListWatches.Pods(c)), "pod", UiObjects.Pod);
        pods.Cache.AddIndex(PodIpIndex, p => p.Spec?.HostNetwork == true ? [] : (p.Status?.PodIPs ?? []).Select(i => i.Ip).Append(p.Status?.PodIP).OfType<string>().Distinct(StringComparer.Ordinal));
        _pods = pods;
        var slices = Get(ListWatches.EndpointSlices);
        slices.AddHandler(s => SetSlice(s, s), (old, s) => SetSlice(s, s), s => SetSlice(s, null));

        Task informers = Task.WhenAll(namespaces.RunAsync(stop), nodes.RunAsync(stop), services.RunAsync(stop), pods.RunAsync(stop), slices.RunAsync(stop));
        Task synced = Task.WhenAll(
            Synced(namespaces.WaitForSyncAsync(stop), "namespace"),
            Synced(nodes.WaitForSyncAsync(stop), "node"),
            Synced(services.WaitForSyncAsync(stop), "service"),
            Synced(slices.WaitForSyncAsync(stop), "endpoints"),
            Synced(pods.WaitForSyncAsync(stop), "pod"));
        Task trace = TraceAsync(nodes, stop);
        try
        {
            using var timer = new PeriodicTimer(FlushInterval, _time);
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
        informer.AddHandler(
            o => Set(kind, o.Metadata.NamespaceProperty, ObjectKey.Of(o), summary(o)),
            (old, o) =>
            {
                // A resync another sharer of the informer asked for changes nothing here.
                if (!ReferenceEquals(old, o))
                {
                    Set(kind, o.Metadata.NamespaceProperty, ObjectKey.Of(o), summary(o));
                }
            },
            o => Set(kind, o.Metadata.NamespaceProperty, ObjectKey.Of(o), null));
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
                _changes.Add(new Summary("synced", "synced", "", "{\"synced\":true}"));
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

            Set("endpoints", slice.Metadata.NamespaceProperty, key, byName.Count == 0 ? null : new JsonObject { ["namespace"] = slice.Metadata.NamespaceProperty, ["service"] = service, ["endpoints"] = UiObjects.Endpoints(byName.Values) });
        }
    }

    /// <summary>An object's summary changed (null: gone); serialised once here, and not sent when it reads as before.</summary>
    private void Set(string kind, string? ns, string key, JsonObject? value)
    {
        string json = new JsonObject { ["kind"] = kind, ["key"] = key, ["value"] = value }.ToJsonString();
        string id = kind + " " + key;
        var change = new Summary(id, kind, ns ?? "", json);
        lock (_gate)
        {
            if (value is null)
            {
                if (!_objects.Remove(id))
                {
                    return;
                }
            }
            else
            {
                if (_objects.TryGetValue(id, out Summary? known) && known.Json == json)
                {
                    return;
                }

                _objects[id] = change;
            }

            _changes.Add(change);
        }
    }

    /// <summary>Sends each page what came since the last flush that it may see; a page without room gets it coalesced later.</summary>
    private void Flush()
    {
        lock (_gate)
        {
            DateTimeOffset now = _time.GetUtcNow();
            long second = now.ToUnixTimeSeconds();
            StopIdleTracing(now);
            _flows.Advance(second);
            List<(string Namespace, string Json)> edges = _flows.TakeEdgeChanges();
            var flowFrames = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (UiPage page in _pages.Values.ToList())
            {
                if (now - page.Opened >= MaxStream)
                {
                    page.Stream.Writer.TryComplete();
                    _pages.Remove(page.Id);
                    continue;
                }

                foreach (Summary change in _changes)
                {
                    if (change.Kind == "synced" || page.Access.MayList(change.Kind, change.Namespace))
                    {
                        page.Pending[change.Id] = change.Json;
                    }
                }

                if (!page.Keeping)
                {
                    page.FlowStale |= page.Flow is not null;
                    page.MapStale = true;
                    continue;
                }

                string frames = Frames(page, edges, flowFrames, second);
                if (frames.Length > 0)
                {
                    page.Stream.Writer.TryWrite(frames);
                }
            }

            _changes.Clear();
            _flows.EndFlush();
        }
    }

    private string Frames(UiPage page, List<(string Namespace, string Json)> edges, Dictionary<string, string?> flowFrames, long second)
    {
        var frames = new StringBuilder();
        if (page.Pending.Count > 0)
        {
            frames.Append(Frame("changes", "[" + string.Join(',', page.Pending.Values) + "]"));
            page.Pending.Clear();
        }

        if (!page.Access.MayTrace)
        {
            return frames.ToString();
        }

        IEnumerable<(string Namespace, string Json)> mapEdges = page.MapStale ? _flows.AllEdges() : edges;
        List<string> visible = [.. mapEdges.Where(e => page.Access.MayList("service", e.Namespace)).Select(e => e.Json)];
        if (visible.Count > 0 || page.MapStale)
        {
            frames.Append(Frame("map", "{\"full\":" + (page.MapStale ? "true" : "false") + ",\"edges\":[" + string.Join(',', visible) + "]}"));
            page.MapStale = false;
        }

        if (page.Flow is { } flow)
        {
            if (page.FlowStale)
            {
                // Just chosen: the last events kept; after skipped frames: the aggregates and the newest few.
                frames.Append(Frame("flow", _flows.FlowFrame(flow, full: true, budget: page.FlowChosen ? UiFlows.RecentEvents : EventsPerFlush, second)));
                page.FlowStale = page.FlowChosen = false;
            }
            else
            {
                if (!flowFrames.TryGetValue(flow, out string? delta))
                {
                    flowFrames[flow] = delta = _flows.Changed(flow) ? _flows.FlowFrame(flow, full: false, EventsPerFlush, second) : null;
                }

                if (delta is not null)
                {
                    frames.Append(Frame("flow", delta));
                }
            }
        }

        return frames.ToString();
    }

    private void StopIdleTracing(DateTimeOffset now)
    {
        if (_pages.Count > 0)
        {
            _lastWatched = now;
        }
        else if (_tracing is not null && now - _lastWatched >= TraceIdle)
        {
            // Not disposed: a reader may still be linking to its token; a canceled source holds nothing.
            _tracing.Cancel();
            _tracing = null;
        }

        if (_dnsServices.Length > 0)
        {
            _lastFlowWatched = now;
        }
        else if (_dnsTracing is not null && now - _lastFlowWatched >= TraceIdle)
        {
            _dnsTracing.Cancel();
            _dnsTracing = null;
        }
    }

    /// <summary>
    /// The Services pages show the flow of, which DNS's trace is read for (<c>?service=</c>): DNS matches its events
    /// on their question names and sends only the queries about those (most of a load's are about other names). A
    /// change restarts the DNS reader with them.
    /// </summary>
    private void UpdateDnsServices()
    {
        string[] services = [.. _pages.Values.Select(p => p.Flow).OfType<string>().Where(TraceSelection.IsService).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        if (!services.SequenceEqual(_dnsServices, StringComparer.Ordinal))
        {
            _dnsServices = services;
            _dnsReader?.Cancel();
            Wake();
        }
    }

    private void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    /// <summary>
    /// The trace sources, followed: each node's proxy while pages are open, DNS while a page shows a flow; a source that
    /// ends or fails is read again after a pause from the event after the last one seen, and new nodes' proxies are
    /// picked up. Events are named (client and endpoint pods, from the pod informer) and counted in batches.
    /// </summary>
    private async Task TraceAsync(Informer<V1Node> nodes, CancellationToken stop)
    {
        var source = new TraceSource(_config());
        var events = Channel.CreateBounded<JsonObject>(new BoundedChannelOptions(MaxPendingEvents) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        var readers = new Dictionary<string, Task>(StringComparer.Ordinal);
        Task consumer = Task.Run(() => CountAsync(events.Reader, stop), stop);
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                CancellationToken tracing, dnsTracing;
                lock (_gate)
                {
                    tracing = _tracing?.Token ?? CancellationToken.None;
                    dnsTracing = _dnsTracing?.Token ?? CancellationToken.None;
                }

                foreach (string path in ProxyPaths(nodes))
                {
                    if (tracing.CanBeCanceled && (!readers.TryGetValue(path, out Task? reader) || reader.IsCompleted))
                    {
                        readers[path] = FollowAsync(source, path, [], seen, events.Writer, tracing, stop);
                    }
                }

                if (!readers.TryGetValue(TraceSource.DnsPath, out Task? dnsReader) || dnsReader.IsCompleted)
                {
                    string[] services;
                    CancellationToken reading;
                    lock (_gate)
                    {
                        // The previous reader is done with its source: a new one for the names shown now, if any.
                        _dnsReader?.Dispose();
                        _dnsReader = dnsTracing.CanBeCanceled && _dnsServices.Length > 0 ? CancellationTokenSource.CreateLinkedTokenSource(dnsTracing) : null;
                        (services, reading) = (_dnsServices, _dnsReader?.Token ?? CancellationToken.None);
                    }

                    if (reading.CanBeCanceled)
                    {
                        readers[TraceSource.DnsPath] = FollowThenWakeAsync(source, TraceSource.DnsPath, services, seen, events.Writer, reading, stop);
                    }
                }

                // New nodes' proxies every few seconds; at once when a page or a flow opens while nothing is read.
                await _wake.WaitAsync(TimeSpan.FromSeconds(5), stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Closing.
        }

        await Task.WhenAll([consumer, .. readers.Values]).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Each node's proxy that says where it serves its trace, from the node informer.</summary>
    private static IEnumerable<string> ProxyPaths(Informer<V1Node> nodes) =>
        nodes.Cache.List()
            .Where(n => n.Metadata.Annotations?.TryGetValue(TraceSource.ProxyPortAnnotation, out string? port) == true && int.TryParse(port, System.Globalization.CultureInfo.InvariantCulture, out _))
            .Select(n => $"api/v1/nodes/{Uri.EscapeDataString(n.Metadata.Name)}:{n.Metadata.Annotations[TraceSource.ProxyPortAnnotation]}/proxy/trace");

    /// <summary>Names the pods of each event and counts what arrived, a batch per lock.</summary>
    private async Task CountAsync(ChannelReader<JsonObject> events, CancellationToken stop)
    {
        var batch = new List<JsonObject>();
        while (await events.WaitToReadAsync(stop))
        {
            while (batch.Count < 1024 && events.TryRead(out JsonObject? e))
            {
                if ((string?)e["type"] != "lost")
                {
                    Annotate(e);
                    batch.Add(e);
                }
            }

            lock (_gate)
            {
                long now = _time.GetUtcNow().ToUnixTimeSeconds();
                foreach (JsonObject e in batch)
                {
                    _flows.Add(e, now);
                }
            }

            batch.Clear();
        }
    }

    /// <summary>Adds <c>pod</c> to an event's client and endpoint when the address is a pod's, as <see cref="TracePods"/> does from a list.</summary>
    private void Annotate(JsonObject e)
    {
        foreach (string end in (string[])["client", "endpoint"])
        {
            if (e[end] is JsonObject address && (string?)address["ip"] is { } ip && _pods?.Cache.ByIndex(PodIpIndex, ip) is [var pod, ..])
            {
                address["pod"] = new JsonObject { ["namespace"] = pod.Metadata.NamespaceProperty, ["name"] = pod.Metadata.Name };
            }
        }
    }

    /// <summary>One source followed while <paramref name="tracing"/> lasts, from the event after the last one seen there.</summary>
    private async Task FollowAsync(
        TraceSource source, string path, string[] services, System.Collections.Concurrent.ConcurrentDictionary<string, long> seen, ChannelWriter<JsonObject> events,
        CancellationToken tracing, CancellationToken stop)
    {
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(tracing, stop);
        while (!reading.IsCancellationRequested)
        {
            try
            {
                // The first time the ring's last events (the last minute is what the page shows), later from where it stopped.
                long last = seen.GetValueOrDefault(path, -1);
                await foreach (JsonObject e in source.ReadAsync(path, follow: true, last: last >= 0 ? long.MaxValue / 2 : 4096, services, reading.Token))
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

            await Task.Delay(TimeSpan.FromSeconds(2), _time, reading.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>As <see cref="FollowAsync"/>, and once it ends the trace loop looks at once for what to read next (a DNS reader restarted for other names).</summary>
    private async Task FollowThenWakeAsync(
        TraceSource source, string path, string[] services, System.Collections.Concurrent.ConcurrentDictionary<string, long> seen, ChannelWriter<JsonObject> events,
        CancellationToken tracing, CancellationToken stop)
    {
        await FollowAsync(source, path, services, seen, events, tracing, stop);
        if (!stop.IsCancellationRequested)
        {
            Wake();
        }
    }

    private static string Frame(string name, string json) => $"event: {name}\ndata: {json}\n\n";

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, Message = "web view: the hub failed; open pages get no more changes")]
    private static partial void LogHubFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1100, Level = LogLevel.Debug, Message = "web view: trace source {Source} not read: {Error}")]
    private static partial void LogTraceUnavailable(ILogger logger, string source, string error);

    /// <summary>One object's summary as pages get it, with what its visibility is decided by.</summary>
    private sealed record Summary(string Id, string Kind, string Namespace, string Json);
}
