using System.Diagnostics.Metrics;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Client;
using Switchboard.Kube.Hosting;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Metrics;
using Switchboard.Kube.Networking;
using Switchboard.Proxy.Iptables;
using Switchboard.Proxy.Model;
using Switchboard.Proxy.Nftables;

namespace Switchboard.Proxy;

/// <summary>
/// The service proxy (kube-proxy) as a component: Services and EndpointSlices from informers, written
/// into the node's network namespace by the proxier of <see cref="ProxyOptions.Mode"/>. Ready after its first full sync, as kube-proxy; after that each sync
/// writes only the services that changed, at most once per <see cref="ProxyOptions.MinSyncPeriod"/>.
/// </summary>
public sealed partial class ProxyService(ProxyOptions options, KubeClientSource client, MetricsRegistry metrics, ILoggerFactory loggerFactory, TimeProvider time)
    : Component(ComponentName)
{
    public const string ComponentName = "proxy";

    // kube-proxy's buckets for its sync duration: 1 ms doubling to about 16 s.
    private static readonly double[] SyncBuckets = [.. Enumerable.Range(0, 15).Select(i => 0.001 * Math.Pow(2, i))];

    private readonly ILogger _logger = loggerFactory.CreateLogger<ProxyService>();
    private readonly SemaphoreSlim _changed = new(0, 1);
    private readonly ServiceCatalog _catalog = new();

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

        var services = new Informer<V1Service>(ListWatches.Services(client.Client), loggerFactory.CreateLogger<Informer<V1Service>>(), time);
        var slices = new Informer<V1EndpointSlice>(ListWatches.EndpointSlices(client.Client), loggerFactory.CreateLogger<Informer<V1EndpointSlice>>(), time);
        services.AddHandler(s => Changed(_catalog.SetService, s), (_, s) => Changed(_catalog.SetService, s), s => Changed(_catalog.DeleteService, s));
        slices.AddHandler(s => Changed(_catalog.SetSlice, s), (_, s) => Changed(_catalog.SetSlice, s), s => Changed(_catalog.DeleteSlice, s));

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        Task informers = Task.WhenAll(services.RunAsync(stop.Token), slices.RunAsync(stop.Token));
        try
        {
            await Task.WhenAll(services.WaitForSyncAsync(stoppingToken), slices.WaitForSyncAsync(stoppingToken));
            await WaitForNamespaceAsync(stoppingToken);
            using IProxier proxier = CreateProxier();
            while (!stoppingToken.IsCancellationRequested)
            {
                long started = time.GetTimestamp();
                try
                {
                    IReadOnlyList<ServicePortState> desired = _catalog.Snapshot();
                    await proxier.SyncAsync(desired, stoppingToken);
                    Volatile.Write(ref servicePorts, desired.Count);
                    syncDuration.Record(time.GetElapsedTime(started).TotalSeconds);
                    MarkReady();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The proxier makes the next sync a full one; it runs after the minimum period, changed or not.
                    syncFailures.Add(1);
                    LogSyncFailed(_logger, e.Message);
                    Signal();
                }

                await Task.Delay(options.MinSyncPeriod, time, stoppingToken);
                await _changed.WaitAsync(options.SyncPeriod, stoppingToken);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await informers;
        }
    }

    private IProxier CreateProxier() => options.Mode switch
    {
        ProxyMode.Iptables => new IptablesProxier(
            new NetnsIptables(options.NodeNamespace), new IptablesOptions { ClusterCidr = options.ClusterCidr }, loggerFactory.CreateLogger<IptablesProxier>(), time),
        ProxyMode.Nftables => new NftablesProxier(options.NodeNamespace, options.ClusterCidr, loggerFactory.CreateLogger<NftablesProxier>(), time),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Mode, "unknown proxy mode"),
    };

    private void Changed<T>(Action<T> apply, T item)
    {
        apply(item);
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
        if (!File.Exists(Path.Combine("/run/netns", options.NodeNamespace)))
        {
            LogWaitingForNamespace(_logger, options.NodeNamespace);
            await NetnsDialer.WaitForNamespaceAsync(options.NodeNamespace, options.NamespacePoll, time, stoppingToken);
        }
    }

    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "waiting for the node's network namespace {Namespace}")]
    private static partial void LogWaitingForNamespace(ILogger logger, string @namespace);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "proxy sync failed, retrying with a full sync: {Error}")]
    private static partial void LogSyncFailed(ILogger logger, string error);
}
