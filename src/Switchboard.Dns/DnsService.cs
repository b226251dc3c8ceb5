using System.Net;
using k8s;
using Microsoft.Extensions.Logging;
using Switchboard.Dns.Feed;
using Switchboard.Dns.Forwarding;
using Switchboard.Dns.Operations;
using Switchboard.Dns.Server;
using Switchboard.Dns.SkyDns;
using Switchboard.Dns.Zones;
using Switchboard.Kube.Client;
using Switchboard.Kube.Metrics;
using Switchboard.Storage;

namespace Switchboard.Dns;

/// <summary>
/// The cluster DNS server as one component: the index fed from the Kubernetes API, UDP+TCP listeners, the
/// forwarder, the SkyDNS zone and kube2sky mirror (when given a store: the one component besides the API
/// server that reads and writes storage, as SkyDNS did), metrics, health and readiness.
/// </summary>
public static class DnsService
{
    /// <summary>Runs until cancelled, with a client built from <paramref name="kubeconfigPath"/>.</summary>
    public static async Task RunAsync(DnsServiceOptions options, string kubeconfigPath, IKeyValueStore? skyDnsStore, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        using IKubernetes client = KubeClients.FromKubeconfig(kubeconfigPath);
        await RunAsync(options, client, skyDnsStore, loggerFactory, cancellationToken);
    }

    /// <summary>Runs until cancelled.</summary>
    public static async Task RunAsync(DnsServiceOptions options, IKubernetes client, IKeyValueStore? skyDnsStore, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        await using DnsServiceHost host = await StartAsync(options, client, skyDnsStore, loggerFactory, TimeProvider.System, cancellationToken);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Binds every listener and starts the feed; returns at once (see <see cref="DnsServiceHost.WaitForSyncAsync"/>).</summary>
    public static async Task<DnsServiceHost> StartAsync(DnsServiceOptions options, IKubernetes client, IKeyValueStore? skyDnsStore, ILoggerFactory loggerFactory, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ILogger logger = loggerFactory.CreateLogger<DnsServer>();
        var metrics = new DnsMetrics();
        var index = new ClusterDnsIndex(
            new ClusterZoneOptions
            {
                Domain = options.Zone,
                Ttl = options.Ttl,
                Pods = options.Pods,
                NameServerAddresses = [.. options.Listen.Select(l => l.Address).Where(a => !a.Equals(IPAddress.Any) && !a.Equals(IPAddress.IPv6Any)).Distinct()],
            },
            time);

        DnsForwarder? forwarder = null;
        if (options.Forward)
        {
            forwarder = new DnsForwarder(
                new ForwarderOptions { Upstreams = options.Upstreams, OwnEndPoints = options.Listen, ClientNetworks = options.ClientNetworks },
                options.MaxUdpPayloadSize,
                time,
                logger);
            metrics.TrackCache(() => (forwarder.Cache.Hits, forwarder.Cache.Misses));
        }

        SkyDnsZone? skyDns = skyDnsStore is null ? null : new SkyDnsZone(options.SkyDns, time);
        SkyDnsServiceMirror? mirror = skyDnsStore is not null && options.SkyDns.MirrorServices
            ? new SkyDnsServiceMirror(skyDnsStore, options.SkyDns.Prefix, options.Zone, time, logger)
            : null;
        var parts = new DnsServerParts(skyDns, forwarder, metrics, options.QueryLog);
        var feed = new ClusterDnsFeed(client, index, options.Pods, mirror, metrics, time, loggerFactory);

        var servers = new List<DnsServer>();
        OperationsServer? operations = null;
        MetricsRegistry? ownRegistry = options.Metrics is null ? new MetricsRegistry() : null;
        MetricsRegistry registry = options.Metrics ?? ownRegistry!;
        IDisposable collector = registry.AddCollector(metrics);
        var stop = new CancellationTokenSource();
        try
        {
            foreach (IPEndPoint endPoint in options.Listen)
            {
                var serverOptions = new DnsServerOptions { EndPoint = endPoint, UdpSockets = options.UdpSockets, MaxUdpPayloadSize = options.MaxUdpPayloadSize };
                servers.Add(DnsServer.Start(index, serverOptions, time, logger, parts));
            }

            if (options.OperationsEndPoint is { } http)
            {
                var checks = new Dictionary<string, Func<bool>>(StringComparer.Ordinal)
                {
                    ["/health"] = () => true, // as CoreDNS's health plugin: 200 while the process serves
                    ["/ready"] = () => feed.IsSynced && (skyDns?.IsSynced ?? true),
                };
                operations = await OperationsServer.StartAsync(http, registry, checks, loggerFactory, cancellationToken);
            }
        }
        catch
        {
            foreach (DnsServer server in servers)
            {
                await server.DisposeAsync();
            }

            collector.Dispose();
            ownRegistry?.Dispose();
            stop.Dispose();
            throw;
        }

        var loops = new List<Task> { Task.Run(() => feed.RunAsync(stop.Token), CancellationToken.None) };
        if (skyDns is not null)
        {
            loops.Add(Task.Run(() => new SkyDnsWatcher(skyDnsStore!, skyDns, options.SkyDns.Prefix, time, logger).RunAsync(stop.Token), CancellationToken.None));
        }

        if (mirror is not null)
        {
            loops.Add(Task.Run(() => mirror.RunAsync(stop.Token), CancellationToken.None));
        }

        return new DnsServiceHost(servers, operations, feed, skyDns, metrics, stop, [.. loops], ownRegistry is null ? [collector] : [collector, ownRegistry]);
    }
}
