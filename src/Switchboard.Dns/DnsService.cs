using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Switchboard.Dns.Feed;
using Switchboard.Dns.Forwarding;
using Switchboard.Dns.Operations;
using Switchboard.Dns.Server;
using Switchboard.Dns.SkyDns;
using Switchboard.Dns.Zones;
using Switchboard.Kube.Client;
using Switchboard.Kube.Hosting;
using Switchboard.Kube.Metrics;
using Switchboard.Storage;

namespace Switchboard.Dns;

/// <summary>
/// The cluster DNS server as one component: the index fed from the Kubernetes API, UDP+TCP listeners, the
/// forwarder, the SkyDNS zone and kube2sky mirror (when given a store: the one component besides the API
/// server that reads and writes storage, as SkyDNS did), metrics, health and readiness. Its start binds every
/// listener, so a taken port fails the start; it is ready once the feed (and the SkyDNS zone) has synced.
/// </summary>
public sealed class DnsService(
    DnsServiceOptions options, KubeClientSource client, MetricsRegistry metrics, IKeyValueStore? skyDnsStore, Readiness readiness, ILoggerFactory loggerFactory, TimeProvider time)
    : Component(ComponentName)
{
    public const string ComponentName = "dns";

    private readonly List<DnsServer> _servers = [];
    private OperationsServer? _operations;
    private IDisposable? _collector;
    private Parts? _parts;

    /// <summary>The bound DNS listeners (UDP and TCP on each).</summary>
    public IReadOnlyList<IPEndPoint> EndPoints => [.. _servers.Select(s => s.EndPoint)];

    /// <summary>Where /metrics, /health and /ready answer, if anywhere.</summary>
    public IPEndPoint? OperationsEndPoint => _operations?.EndPoint;

    public DnsMetrics Metrics { get; } = new();

    protected override async Task OpenAsync(CancellationToken cancellationToken)
    {
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
                loggerFactory.CreateLogger<DnsForwarder>());
            Metrics.TrackCache(() => (forwarder.Cache.Hits, forwarder.Cache.Misses));
        }

        SkyDnsZone? skyDns = skyDnsStore is null ? null : new SkyDnsZone(options.SkyDns, time);
        SkyDnsServiceMirror? mirror = skyDnsStore is not null && options.SkyDns.MirrorServices
            ? new SkyDnsServiceMirror(skyDnsStore, options.SkyDns.Prefix, options.Zone, time, loggerFactory.CreateLogger<SkyDnsServiceMirror>())
            : null;
        var parts = new DnsServerParts(skyDns, forwarder, Metrics, options.QueryLog);
        _collector = metrics.AddCollector(Metrics);
        foreach (IPEndPoint endPoint in options.Listen)
        {
            var serverOptions = new DnsServerOptions { EndPoint = endPoint, UdpSockets = options.UdpSockets, MaxUdpPayloadSize = options.MaxUdpPayloadSize };
            try
            {
                _servers.Add(DnsServer.Start(index, serverOptions, time, loggerFactory.CreateLogger<DnsServer>(), parts));
            }
            catch (SocketException e)
            {
                throw new IOException($"cannot listen on {endPoint}: {e.Message}", e);
            }
        }

        if (options.OperationsEndPoint is { } http)
        {
            var checks = new Dictionary<string, Func<CancellationToken, Task<bool>>>(StringComparer.Ordinal)
            {
                ["/health"] = _ => Task.FromResult(true), // as CoreDNS's health plugin: 200 while the process serves
                ["/ready"] = async ct => (await readiness.CheckAsync(ComponentName, ct)).Ready,
            };
            _operations = await OperationsServer.StartAsync(http, metrics, checks, loggerFactory, cancellationToken);
        }

        _parts = new Parts(index, skyDns, mirror);
    }

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        (ClusterDnsIndex index, SkyDnsZone? skyDns, SkyDnsServiceMirror? mirror) = _parts!;
        var feed = new ClusterDnsFeed(client.Client, index, options.Pods, mirror, Metrics, time, loggerFactory);
        var loops = new List<Task> { feed.RunAsync(stoppingToken), ReadyOnceSyncedAsync(feed, skyDns, stoppingToken) };
        if (skyDns is not null)
        {
            loops.Add(new SkyDnsWatcher(skyDnsStore!, skyDns, options.SkyDns.Prefix, time, loggerFactory.CreateLogger<SkyDnsWatcher>()).RunAsync(stoppingToken));
        }

        if (mirror is not null)
        {
            loops.Add(mirror.RunAsync(stoppingToken));
        }

        await Task.WhenAll(loops);
    }

    protected override async Task CloseAsync(CancellationToken cancellationToken)
    {
        foreach (DnsServer server in _servers)
        {
            await server.DisposeAsync();
        }

        _servers.Clear();
        if (_operations is not null)
        {
            await _operations.DisposeAsync();
            _operations = null;
        }

        _collector?.Dispose();
        _collector = null;
    }

    /// <summary>Negative answers are authoritative once the informers have synced and the SkyDNS zone has loaded.</summary>
    private async Task ReadyOnceSyncedAsync(ClusterDnsFeed feed, SkyDnsZone? skyDns, CancellationToken stoppingToken)
    {
        await feed.WaitForSyncAsync(stoppingToken);
        if (skyDns is not null)
        {
            await skyDns.WaitForSyncAsync(stoppingToken);
        }

        MarkReady();
    }

    private sealed record Parts(ClusterDnsIndex Index, SkyDnsZone? SkyDns, SkyDnsServiceMirror? Mirror);
}
