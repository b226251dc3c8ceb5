using System.Diagnostics.Metrics;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Client;
using Switchboard.Kube.Hosting;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Metrics;
using Switchboard.Kube.Networking;
using Switchboard.Kube.Queues;
using Switchboard.Kube.Trace;
using Switchboard.Proxy.Conntrack;
using Switchboard.Proxy.Iptables;
using Switchboard.Proxy.Model;
using Switchboard.Proxy.Nftables;
using Switchboard.Proxy.Rules;
using Switchboard.Proxy.Trace;
using Switchboard.Proxy.Userspace;

namespace Switchboard.Proxy;

/// <summary>
/// The service proxy (kube-proxy) as a component: Services and EndpointSlices from informers, written
/// into the node's network namespace by the proxier of <see cref="ProxyOptions.Mode"/>. Ready after its first full sync, as kube-proxy; after that each sync
/// writes only the services that changed, at once after a quiet spell and at most once per <see cref="ProxyOptions.MinSyncPeriod"/> in a burst.
/// </summary>
public sealed partial class ProxyService(
    ProxyOptions options, KubeClientSource client, MetricsRegistry metrics, ILoggerFactory loggerFactory, TimeProvider time, ProxyHealth? health = null,
    ConnectionTrace? trace = null)
    : Component(ComponentName)
{
    public const string ComponentName = "proxy";

    // kube-proxy's buckets for its sync duration: 1 ms doubling to about 16 s.
    private static readonly double[] SyncBuckets = [.. Enumerable.Range(0, 15).Select(i => 0.001 * Math.Pow(2, i))];

    // kube-proxy's buckets for network programming latency: 0.25 s and 0.5 s, each second to 59 s, every 5 s to 115 s, every 30 s to 5 min.
    private static readonly double[] ProgrammingBuckets =
    [
        0.25, 0.5, .. Enumerable.Range(1, 59).Select(i => (double)i), .. Enumerable.Range(0, 12).Select(i => 60.0 + (5 * i)),
        .. Enumerable.Range(0, 7).Select(i => 120.0 + (30 * i)),
    ];

    private readonly ILogger _logger = loggerFactory.CreateLogger<ProxyService>();
    private readonly SemaphoreSlim _changed = new(0, 1);
    private readonly ServiceCatalog _catalog = new(options.NodeName);
    private readonly IptablesOptions _iptables = new() { ClusterCidr = options.ClusterCidr, CanaryInterval = options.SyncPeriod };

    public override void Dispose()
    {
        _changed.Dispose();
        base.Dispose();
    }

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        Meter meter = metrics.CreateMeter("Switchboard.Proxy");
        Histogram<double> syncDuration = meter.CreateHistogram(
            "kubeproxy_sync_proxy_rules_duration_seconds",
            unit: null,
            description: "SyncProxyRules latency in seconds",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SyncBuckets });
        Counter<long> syncFailures = meter.CreateCounter<long>("kubeproxy_sync_proxy_rules_iptables_restore_failures_total", description: "Cumulative proxy iptables restore failures");
        int servicePorts = 0;
        meter.CreateObservableGauge("kubeproxy_sync_proxy_rules_last_service_ports", () => Volatile.Read(ref servicePorts), description: "Service ports programmed by the last sync");
        Histogram<double> programming = meter.CreateHistogram(
            "kubeproxy_network_programming_duration_seconds",
            unit: null,
            description: "In Cluster Network Programming Latency in seconds",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ProgrammingBuckets });
        IReadOnlyList<KeyValuePair<string, int>> tableRules = [];
        if (options.Mode == ProxyMode.Iptables)
        {
            meter.CreateObservableGauge(
                "kubeproxy_sync_proxy_rules_iptables_total",
                () => Volatile.Read(ref tableRules).Select(t => new Measurement<long>(t.Value, new KeyValuePair<string, object?>("table", t.Key))),
                description: "Total number of iptables rules owned by kube-proxy");
        }

        var conntrack = new UdpConntrackCleaner(options.NodeNamespace, loggerFactory.CreateLogger<UdpConntrackCleaner>());
        IReadOnlyList<ServicePortState> programmed = [];
        var triggerTimes = new List<DateTimeOffset>();
        var rules = new ProgrammedRules(options.Mode, _iptables);

        var services = client.Informers.Get(() => ListWatches.Services(client.Client), loggerFactory, time);
        var slices = client.Informers.Get(() => ListWatches.EndpointSlices(client.Client), loggerFactory, time);
        services.AddHandler(s => Changed(_catalog.SetService, s), ResourceEventHandlers.Changes<V1Service>((_, s) => Changed(_catalog.SetService, s)), s => Changed(_catalog.DeleteService, s));
        slices.AddHandler(s => Changed(_catalog.SetSlice, s), ResourceEventHandlers.Changes<V1EndpointSlice>((_, s) => Changed(_catalog.SetSlice, s)), s => Changed(_catalog.DeleteSlice, s));

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        Task informers = Task.WhenAll(services.RunAsync(stop.Token), slices.RunAsync(stop.Token));
        OperationsServer? operations = null;
        ConntrackWatcher? watcher = null;
        Task published = Task.CompletedTask;
        try
        {
            if (options.OperationsEndPoint is { } endPoint)
            {
                var routes = new Dictionary<string, Microsoft.AspNetCore.Http.RequestDelegate>((health ?? new ProxyHealth(time, 2 * options.SyncPeriod)).Routes(metrics), StringComparer.Ordinal);
                if (trace is not null)
                {
                    routes[TraceStream.Path] = trace.Routes()[TraceStream.Path];
                }

                routes[ProgrammedRules.Path] = rules.ServeAsync;

                try
                {
                    operations = await OperationsServer.StartAsync(endPoint, metrics, new Dictionary<string, Func<CancellationToken, Task<bool>>>(), routes, loggerFactory, stoppingToken);
                }
                catch (Exception e) when (e is IOException or InvalidOperationException)
                {
                    // A second cluster on this machine holds the port: its rules matter more than this one's trace.
                    LogNoOperations(_logger, endPoint, e.Message);
                }
            }

            if (trace is not null && options.NodeName is { } nodeName && (operations?.EndPoint.Port ?? (options.OperationsEndPoint is null ? options.TracePort : null)) is { } tracePort)
            {
                published = ProxyTraceAnnotation.PublishAsync(client.Client, nodeName, tracePort, time, stop.Token).ContinueWith(
                    t =>
                    {
                        if (t.Exception?.GetBaseException() is { } e)
                        {
                            LogNotAdvertised(_logger, nodeName, e.Message);
                        }
                    },
                    TaskScheduler.Default);
            }

            await Task.WhenAll(services.WaitForSyncAsync(stoppingToken), slices.WaitForSyncAsync(stoppingToken));
            await WaitForNamespaceAsync(stoppingToken);
            using IProxier proxier = CreateProxier();
            if (trace is not null && options.Mode != ProxyMode.Userspace)
            {
                try
                {
                    watcher = await ConntrackWatcher.StartAsync(options.NodeNamespace, trace, loggerFactory.CreateLogger<ConntrackWatcher>(), time, stoppingToken);
                }
                catch (Exception e) when (e is IOException or NftablesException)
                {
                    // The rules matter more than their trace: the proxy runs on, and says why trace shows no connections.
                    LogNoConnectionTrace(_logger, options.NodeNamespace, e.Message);
                }
            }

            // kube-proxy's BoundedFrequencyRunner: a change after a quiet spell is written at once, a burst of them
            // waits for the minimum period (two syncs may run back to back, as its burstSyncs = 2 allows).
            var syncs = new TokenBucket(1 / Math.Max(options.MinSyncPeriod.TotalSeconds, 0.001), burst: 2, time);
            while (!stoppingToken.IsCancellationRequested)
            {
                long started = time.GetTimestamp();
                try
                {
                    IReadOnlyList<ServicePortState> desired = _catalog.Snapshot(triggerTimes);
                    var result = await proxier.SyncAsync(desired, stoppingToken);
                    trace?.SetServices(desired);
                    rules.Applied(desired);
                    Volatile.Write(ref servicePorts, desired.Count);
                    Volatile.Write(ref tableRules, result.TableRules);
                    syncDuration.Record(time.GetElapsedTime(started).TotalSeconds);
                    foreach (var trigger in triggerTimes)
                    {
                        programming.Record(Math.Max(0, (time.GetUtcNow() - trigger).TotalSeconds));
                    }

                    triggerTimes.Clear();
                    health?.Updated();
                    MarkReady();
                    // Only after the rules changed: a flow deleted before would be made again by the old rules.
                    await conntrack.DeleteAsync(UdpConntrackCleaner.StaleFlows(programmed, desired), stoppingToken);
                    programmed = desired;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The proxier makes the next sync a full one; it runs after the minimum period, changed or not.
                    syncFailures.Add(1);
                    LogSyncFailed(_logger, e.Message);
                    Signal();
                }

                await _changed.WaitAsync(options.SyncPeriod, stoppingToken);
                await Task.Delay(syncs.Reserve(), time, stoppingToken);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await informers;
            watcher?.Dispose();
            await published;
            if (operations is not null)
            {
                await operations.DisposeAsync();
            }
        }
    }

    private IProxier CreateProxier() => options.Mode switch
    {
        ProxyMode.Iptables => new IptablesProxier(
            new NetnsIptables(options.NodeNamespace),
            _iptables,
            loggerFactory.CreateLogger<IptablesProxier>(),
            time),
        ProxyMode.Nftables => new NftablesProxier(options.NodeNamespace, options.ClusterCidr, loggerFactory.CreateLogger<NftablesProxier>(), time),
        ProxyMode.Userspace => new UserspaceProxier(options.NodeNamespace, new UserspaceOptions { Trace = trace }, loggerFactory.CreateLogger<UserspaceProxier>(), time),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Mode, "unknown proxy mode"),
    };

    private void Changed<T>(Action<T> apply, T item)
    {
        apply(item);
        health?.QueuedUpdate();
        Signal();
    }

    private void Signal()
    {
        try
        {
            _changed.Release();
        }
        catch (SemaphoreFullException)
        {
            // A sync is already due.
        }
    }

    /// <summary>The node agent makes the node's namespace; until it exists there is nowhere to write rules.</summary>
    private async Task WaitForNamespaceAsync(CancellationToken stoppingToken)
    {
        if (!NetnsDialer.Exists(options.NodeNamespace))
        {
            LogWaitingForNamespace(_logger, options.NodeNamespace);
            await NetnsDialer.WaitForNamespaceAsync(options.NodeNamespace, options.NamespacePoll, time, stoppingToken);
        }
    }

    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "waiting for the node's network namespace {Namespace}")]
    private static partial void LogWaitingForNamespace(ILogger logger, string @namespace);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "no connection events for switchboard trace in {Namespace}: {Error}")]
    private static partial void LogNoConnectionTrace(ILogger logger, string @namespace, string error);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "the proxy's /metrics, /healthz and /trace are not served: cannot listen on {EndPoint}: {Error}")]
    private static partial void LogNoOperations(ILogger logger, System.Net.IPEndPoint endPoint, string error);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "switchboard trace will not find this proxy's connections: the port of /trace could not be written on node {Node}: {Error}")]
    private static partial void LogNotAdvertised(ILogger logger, string node, string error);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "proxy sync failed, retrying with a full sync: {Error}")]
    private static partial void LogSyncFailed(ILogger logger, string error);
}
