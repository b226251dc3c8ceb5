using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Switchboard.Dns.Feed;
using Switchboard.Dns.Forwarding;
using Switchboard.Dns.InCluster;
using Switchboard.Dns.Operations;
using Switchboard.Dns.Server;
using Switchboard.Dns.SkyDns;
using Switchboard.Dns.Trace;
using Switchboard.Dns.Zones;
using Switchboard.Kube.Client;
using Switchboard.Kube.Hosting;
using Switchboard.Kube.Metrics;
using Switchboard.Kube.Networking;
using Switchboard.Kube.Trace;
using Switchboard.Storage;
using Microsoft.AspNetCore.Http;

namespace Switchboard.Dns;

/// <summary>
/// The cluster DNS server as one component: the index fed from the Kubernetes API, UDP+TCP listeners, the
/// forwarder, the SkyDNS zone and kube2sky mirror (when given a store: the one component besides the API
/// server that reads and writes storage, as SkyDNS did), metrics, health and readiness. Its start binds every
/// listener, so a taken port fails the start; it is ready once the feed (and the SkyDNS zone) has synced.
/// With <see cref="DnsServiceOptions.InCluster"/> it also serves pods behind kube-dns's ClusterIP, from inside the
/// node's network namespace, and is ready only once that endpoint is published.
/// </summary>
public sealed class DnsService(
    DnsServiceOptions options, KubeClientSource client, MetricsRegistry metrics, IKeyValueStore? skyDnsStore, Readiness readiness, ILoggerFactory loggerFactory, TimeProvider time)
    : Component(ComponentName)
{
    public const string ComponentName = "dns";

    private readonly List<DnsServer> _servers = [];
    private readonly TaskCompletionSource _podsServed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private OperationsServer? _operations;
    private OperationsServer? _podOperations;
    private NetnsDialer? _podDialer;

    // Kestrel serves this socket's descriptor; the Socket is kept so its finalizer cannot close it under Kestrel.
    private Socket? _podMetricsListener;
    private IDisposable? _collector;
    private Parts? _parts;

    /// <summary>The bound DNS listeners (UDP and TCP on each).</summary>
    public IReadOnlyList<IPEndPoint> EndPoints
    {
        get
        {
            lock (_servers)
            {
                return [.. _servers.Select(s => s.EndPoint)];
            }
        }
    }

    /// <summary>Where /metrics, /health and /ready answer, if anywhere.</summary>
    public IPEndPoint? OperationsEndPoint => _operations?.EndPoint;

    public DnsMetrics Metrics { get; } = new();

    /// <summary>The recent answers <c>/trace</c> serves; null when <see cref="DnsServiceOptions.TraceBuffer"/> is 0.</summary>
    public DnsTraceBuffer? Trace { get; private set; }

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
        if (options.TraceBuffer > 0)
        {
            Trace = new DnsTraceBuffer(options.TraceBuffer, time, options.SkyDns.Prefix);
            Metrics.TrackTrace(Trace);
        }

        // Listeners beyond loopback (a wildcard or an interface address, the pods' listener of up) limit the clients
        // outside the cluster networks; one on loopback answers only this host, as fast as it asks.
        ResponseRateLimit? rateLimit = options.ResponsesPerSecond > 0 ? new ResponseRateLimit(options.ResponsesPerSecond, options.ClientNetworks, time) : null;
        var parts = new DnsServerParts(skyDns, forwarder, Metrics, options.QueryLog, Trace, rateLimit);
        _collector = metrics.AddCollector(Metrics);
        foreach (IPEndPoint endPoint in options.Listen)
        {
            var serverOptions = new DnsServerOptions { EndPoint = endPoint, UdpSockets = options.UdpSockets, MaxUdpPayloadSize = options.MaxUdpPayloadSize };
            try
            {
                _servers.Add(DnsServer.Start(index, serverOptions, time, loggerFactory.CreateLogger<DnsServer>(), IPAddress.IsLoopback(endPoint.Address) ? parts with { RateLimit = null } : parts));
            }
            catch (SocketException e)
            {
                throw new IOException($"cannot listen on {endPoint}: {e.Message}", e);
            }
        }

        if (options.OperationsEndPoint is { } http)
        {
            _operations = await OperationsServer.StartAsync(http, metrics, Checks(), Routes(), loggerFactory, cancellationToken);
        }

        _parts = new Parts(index, skyDns, mirror, parts);
    }

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        (ClusterDnsIndex index, SkyDnsZone? skyDns, SkyDnsServiceMirror? mirror, DnsServerParts serverParts) = _parts!;
        var feed = new ClusterDnsFeed(client.Client, index, options.Pods, mirror, Metrics, time, loggerFactory, client.Informers);
        var loops = new List<Task> { feed.RunAsync(stoppingToken), ReadyOnceSyncedAsync(feed, skyDns, stoppingToken) };
        if (options.InCluster is { } inCluster)
        {
            loops.Add(ServePodsAsync(inCluster, index, serverParts, stoppingToken));
        }
        else
        {
            _podsServed.SetResult();
        }

        if (skyDns is not null)
        {
            loops.Add(new SkyDnsWatcher(skyDnsStore!, skyDns, options.SkyDns.Prefix, time, loggerFactory.CreateLogger<SkyDnsWatcher>()).RunAsync(stoppingToken));
        }

        if (mirror is not null)
        {
            loops.Add(mirror.RunAsync(stoppingToken));
        }

        // The first loop to fail fails the component at once: WhenAll would wait on the feed, which never ends, and a
        // pod listener that could not start would leave the component unready without a word.
        while (loops.Count > 0)
        {
            Task done = await Task.WhenAny(loops);
            await done;
            loops.Remove(done);
        }
    }

    protected override async Task CloseAsync(CancellationToken cancellationToken)
    {
        DnsServer[] servers;
        lock (_servers)
        {
            servers = [.. _servers];
            _servers.Clear();
        }

        foreach (DnsServer server in servers)
        {
            await server.DisposeAsync();
        }

        foreach (OperationsServer? operations in (OperationsServer?[])[_operations, _podOperations])
        {
            if (operations is not null)
            {
                await operations.DisposeAsync();
            }
        }

        _operations = _podOperations = null;
        _podMetricsListener?.Dispose();
        _podMetricsListener = null;
        _podDialer?.Dispose();
        _podDialer = null;

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

        await _podsServed.Task.WaitAsync(stoppingToken);
        MarkReady();
    }

    /// <summary>
    /// Listens for pods on port 53 (and /metrics on 9153) inside the node's namespace once the node agent has made
    /// it, then makes this server kube-dns's endpoint there. It binds the node's gateway address, not the wildcard:
    /// the userspace proxy binds kube-dns's ClusterIP on the same ports in that namespace, which a wildcard would
    /// hold. IP_FREEBIND lets the bind come before the agent has put the address on the bridge.
    /// </summary>
    private async Task ServePodsAsync(InClusterDnsOptions inCluster, ClusterDnsIndex index, DnsServerParts parts, CancellationToken stoppingToken)
    {
        const int IpProtocolIp = 0, IpFreeBind = 15;
        await NetnsDialer.WaitForNamespaceAsync(inCluster.NodeNamespace, inCluster.Poll, time, stoppingToken);
        var dialer = new NetnsDialer(inCluster.NodeNamespace);
        _podDialer = dialer;
        var registration = new KubeDnsRegistration(client.Client, inCluster, loggerFactory.CreateLogger<KubeDnsRegistration>(), time);
        IPAddress gateway = await registration.WaitForGatewayAsync(stoppingToken);
        Socket Create(AddressFamily family, SocketType type, ProtocolType protocol)
        {
            Socket socket = dialer.CreateAsync(family, type, protocol).GetAwaiter().GetResult();
            socket.SetRawSocketOption(IpProtocolIp, IpFreeBind, BitConverter.GetBytes(1));
            return socket;
        }

        var serverOptions = new DnsServerOptions
        {
            EndPoint = new IPEndPoint(gateway, KubeDnsRegistration.DnsPort),
            UdpSockets = options.UdpSockets,
            MaxUdpPayloadSize = options.MaxUdpPayloadSize,
            CreateSocket = Create,
        };
        DnsServer server = DnsServer.Start(index, serverOptions, time, loggerFactory.CreateLogger<DnsServer>(), parts);
        lock (_servers)
        {
            _servers.Add(server);
        }

        _podMetricsListener = Create(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _podMetricsListener.Bind(new IPEndPoint(gateway, KubeDnsRegistration.MetricsPort));
        _podMetricsListener.Listen();

        // The metrics port and the registration do not wait for each other: readiness waits for both.
        Task<OperationsServer> operations = OperationsServer.StartAsync(_podMetricsListener, metrics, Checks(), Routes(), loggerFactory, stoppingToken);
        Task published = registration.PublishAsync(gateway, stoppingToken);
        try
        {
            await Task.WhenAll(operations, published);
        }
        finally
        {
            if (operations.IsCompletedSuccessfully)
            {
                _podOperations = operations.Result;
            }
        }

        _podsServed.TrySetResult();
    }

    private Dictionary<string, Func<CancellationToken, Task<bool>>> Checks() => new(StringComparer.Ordinal)
    {
        ["/health"] = _ => Task.FromResult(true), // as CoreDNS's health plugin: 200 while the process serves
        ["/ready"] = async ct => (await readiness.CheckAsync(ComponentName, ct)).Ready,
    };

    /// <summary>The trace stream, beside /metrics on both operations ports (the API server proxies it for <c>switchboard trace</c>).</summary>
    private Dictionary<string, RequestDelegate> Routes()
    {
        var routes = new Dictionary<string, RequestDelegate>(StringComparer.Ordinal);
        if (Trace is { } trace)
        {
            routes[TraceStream.Path] = http => TraceStream.ServeAsync(http, trace, time);
        }

        return routes;
    }

    private sealed record Parts(ClusterDnsIndex Index, SkyDnsZone? SkyDns, SkyDnsServiceMirror? Mirror, DnsServerParts ServerParts);
}
