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
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _live;

    public ClusterDnsFeed(IKubernetes client, ClusterDnsIndex index, PodRecordMode pods, SkyDnsServiceMirror? mirror, DnsMetrics? metrics, TimeProvider time, ILoggerFactory loggerFactory)
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
        _logger = loggerFactory.CreateLogger<ClusterDnsFeed>();
    }

    public bool IsSynced => _synced.Task.IsCompleted;

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _synced.Task.WaitAsync(cancellationToken);

    /// <summary>Lists and watches until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var namespaces = new Informer<V1Namespace>(ListWatches.Namespaces(_client), _loggerFactory.CreateLogger<Informer<V1Namespace>>(), _time);
        var services = new Informer<V1Service>(ListWatches.Services(_client), _loggerFactory.CreateLogger<Informer<V1Service>>(), _time);
        var slices = new Informer<V1EndpointSlice>(ListWatches.EndpointSlices(_client), _loggerFactory.CreateLogger<Informer<V1EndpointSlice>>(), _time);
        Informer<V1Pod>? pods = _pods == PodRecordMode.Verified ? new Informer<V1Pod>(ListWatches.Pods(_client), _loggerFactory.CreateLogger<Informer<V1Pod>>(), _time) : null;

        namespaces.AddHandler(n => Apply("namespace", () => _index.SetNamespace(n)), (_, n) => Apply("namespace", () => _index.SetNamespace(n)), n => Apply("namespace", () => _index.RemoveNamespace(n)));
        services.AddHandler(
            s => Apply("service", () => _index.SetService(s), () => _mirror?.Set(s)),
            (_, s) => Apply("service", () => _index.SetService(s), () => _mirror?.Set(s)),
            s => Apply("service", () => _index.RemoveService(s), () => _mirror?.Remove(s)));
        slices.AddHandler(
            s => Apply("endpointslice", () => _index.SetEndpointSlice(s), () => _mirror?.SetEndpointSlice(s)),
            (_, s) => Apply("endpointslice", () => _index.SetEndpointSlice(s), () => _mirror?.SetEndpointSlice(s)),
            s => Apply("endpointslice", () => _index.RemoveEndpointSlice(s), () => _mirror?.RemoveEndpointSlice(s)));
        pods?.AddHandler(p => Apply("pod", () => _index.SetPod(p)), (_, p) => Apply("pod", () => _index.SetPod(p)), p => Apply("pod", () => _index.RemovePod(p)));

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
