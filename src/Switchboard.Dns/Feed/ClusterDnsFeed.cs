using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.Dns.Operations;
using Switchboard.Dns.SkyDns;
using Switchboard.Dns.Zones;
using Switchboard.Kube.Informers;

namespace Switchboard.Dns.Feed;

/// <summary>
/// Feeds a <see cref="ClusterDnsIndex"/> from the Kubernetes API: informers on Namespaces, Services,
/// EndpointSlices (and Pods in verified pod mode). Once every informer has listed, the index is filled in one
/// rebuild and marked synced (negative answers stop being SERVFAIL); from then on each watch event updates
/// it incrementally, and the time from the event's arrival to the new answers is recorded as DNS programming latency.
/// </summary>
public sealed class ClusterDnsFeed
{
    private readonly IKubernetes _client;
    private readonly ClusterDnsIndex _index;
    private readonly PodRecordMode _pods;
    private readonly SkyDnsServiceMirror? _mirror;
    private readonly DnsMetrics? _metrics;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly SharedInformerSet _informers;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _live;

    /// <summary>With <paramref name="informers"/>, DNS follows the cluster through the informers of the process (its own otherwise).</summary>
    public ClusterDnsFeed(
        IKubernetes client, ClusterDnsIndex index, PodRecordMode pods, SkyDnsServiceMirror? mirror, DnsMetrics? metrics, TimeProvider time, ILoggerFactory loggerFactory,
        SharedInformerSet? informers = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _client = client;
        _index = index;
        _pods = pods;
        _mirror = mirror;
        _metrics = metrics;
        _time = time;
        _loggerFactory = loggerFactory;
        _informers = informers ?? new SharedInformerSet();
        _logger = loggerFactory.CreateLogger<ClusterDnsFeed>();
    }

    public bool IsSynced => _synced.Task.IsCompleted;

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _synced.Task.WaitAsync(cancellationToken);

    /// <summary>Lists and watches until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var namespaces = _informers.Get(() => ListWatches.Namespaces(_client), _loggerFactory, _time);
        var services = _informers.Get(() => ListWatches.Services(_client), _loggerFactory, _time);
        var slices = _informers.Get(() => ListWatches.EndpointSlices(_client), _loggerFactory, _time);
        Informer<V1Pod>? pods = _pods == PodRecordMode.Verified ? _informers.Get(() => ListWatches.Pods(_client), _loggerFactory, _time) : null;

        namespaces.AddHandler(
            n => Apply("namespace", () => _index.SetNamespace(n)),
            ResourceEventHandlers.Changes<V1Namespace>((_, n) => Apply("namespace", () => _index.SetNamespace(n))),
            n => Apply("namespace", () => _index.RemoveNamespace(n)));
        services.AddHandler(
            s => Apply("service", () => _index.SetService(s), () => _mirror?.Set(s)),
            ResourceEventHandlers.Changes<V1Service>((_, s) => Apply("service", () => _index.SetService(s), () => _mirror?.Set(s))),
            s => Apply("service", () => _index.RemoveService(s), () => _mirror?.Remove(s)));
        slices.AddHandler(
            s => Apply("endpointslice", () => _index.SetEndpointSlice(s), () => _mirror?.SetEndpointSlice(s)),
            ResourceEventHandlers.Changes<V1EndpointSlice>((_, s) => Apply("endpointslice", () => _index.SetEndpointSlice(s), () => _mirror?.SetEndpointSlice(s))),
            s => Apply("endpointslice", () => _index.RemoveEndpointSlice(s), () => _mirror?.RemoveEndpointSlice(s)));
        pods?.AddHandler(
            p => Apply("pod", () => _index.SetPod(p)),
            ResourceEventHandlers.Changes<V1Pod>((_, p) => Apply("pod", () => _index.SetPod(p))),
            p => Apply("pod", () => _index.RemovePod(p)));

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task[] running = [namespaces.RunAsync(stop.Token), services.RunAsync(stop.Token), slices.RunAsync(stop.Token), .. pods is null ? Array.Empty<Task>() : [pods.RunAsync(stop.Token)]];
        try
        {
            Task[] syncs = [namespaces.WaitForSyncAsync(stop.Token), services.WaitForSyncAsync(stop.Token), slices.WaitForSyncAsync(stop.Token), .. pods is null ? Array.Empty<Task>() : [pods.WaitForSyncAsync(stop.Token)]];
            await Task.WhenAll(syncs);
            lock (_gate)
            {
                // Events that arrived before this point are in the caches; events after it wait for the lock.
                _index.ReplaceAll(namespaces.Cache.List(), services.Cache.List(), slices.Cache.List(), pods?.Cache.List() ?? []);
                _index.MarkSynced();
                _mirror?.ReplaceAll(services.Cache.List(), slices.Cache.List());
                _live = true;
            }

            FeedLog.Synced(_logger, namespaces.Cache.Count, services.Cache.Count, slices.Cache.Count);
            _synced.TrySetResult();
            await Task.WhenAll(running);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stop.CancelAsync();
            await Task.WhenAll(running);
        }
    }

    /// <summary>An informer event: applied once the initial state is in the index, and timed.</summary>
    private void Apply(string kind, Action change, Action? alsoAfterwards = null)
    {
        long arrived = _time.GetTimestamp();
        lock (_gate)
        {
            if (!_live)
            {
                return;
            }

            change();
        }

        _metrics?.ObserveProgramming(kind, _time.GetElapsedTime(arrived));
        alsoAfterwards?.Invoke();
    }
}
