using System.Buffers;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Http;
using Switchboard.Kube.Metrics;
using Switchboard.Kube.Trace;
using Switchboard.Proxy.Model;

namespace Switchboard.Proxy.Trace;

/// <summary>
/// The proxy's recent connections to services, for <c>switchboard trace</c>: a ring of the last <see cref="Capacity"/>
/// events (open, close, rejected) that <c>--last N</c> reads and <c>-f</c> tails, served as <c>/trace</c>. Events come
/// per connection, not per packet (conntrack's NEW and DESTROY in the kernel modes, the relay in userspace mode), so a
/// lock around an array of records costs nothing next to the connection itself; readers copy out under it, and one
/// too slow for the connections finds its next events overwritten and is told how many it lost. Also counts
/// the flows by service, namespace and verdict, and the endpoints chosen, on the process's metrics.
/// </summary>
public sealed class ConnectionTrace : ITraceRing
{
    /// <summary>The default number of events kept.</summary>
    public const int DefaultCapacity = 4096;

    private readonly Lock _lock = new();
    private readonly ConnectionTraceEvent?[] _events;
    private readonly TimeProvider _time;
    private readonly string? _node;
    private readonly Counter<long>? _flows;
    private readonly Counter<long>? _endpoints;
    private IReadOnlyList<ServicePortState> _services = [];
    private IReadOnlyList<ServicePortState>? _indexed;
    private Dictionary<(IPAddress, int, string), ServicePortState> _byAddress = [];
    private long _next;
    private long _lost;

    public ConnectionTrace(int capacity, string? node, TimeProvider time, MetricsRegistry? metrics = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentNullException.ThrowIfNull(time);
        _events = new ConnectionTraceEvent?[capacity];
        _node = node;
        _time = time;
        if (metrics is not null)
        {
            Meter meter = metrics.CreateMeter("Switchboard.Proxy.Trace");
            _flows = meter.CreateCounter<long>("switchboard_proxy_flows_total", description: "Connections to services seen by the proxy, by service, namespace and verdict (FORWARDED when opened, TIMEOUT when closed unanswered, REJECTED)");
            _endpoints = meter.CreateCounter<long>("switchboard_proxy_flow_endpoints_total", description: "Connections sent to each endpoint of each service: the random spread, counted");
            meter.CreateObservableCounter("switchboard_proxy_trace_lost_events_total", () => Lost, description: "Trace events readers lost because the proxy's trace buffer moved on");
        }
    }

    public int Capacity => _events.Length;

    public long Head => Interlocked.Read(ref _next);

    /// <summary>Events readers lost because the buffer moved on before they read them (summed over readers).</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>The routes the proxy's operations port serves the buffer on.</summary>
    public IReadOnlyDictionary<string, RequestDelegate> Routes() =>
        new Dictionary<string, RequestDelegate>(StringComparer.Ordinal) { [TraceStream.Path] = http => TraceStream.ServeAsync(http, this, _time) };

    /// <summary>The service ports of the last sync: what a connection's destination is looked up in.</summary>
    internal void SetServices(IReadOnlyList<ServicePortState> services) => Volatile.Write(ref _services, services);

    /// <summary>The service port a destination address belongs to (its cluster IP, an external or load-balancer IP), if any.</summary>
    internal ServicePortState? Find(IPAddress address, int port, string protocol)
    {
        IReadOnlyList<ServicePortState> services = Volatile.Read(ref _services);
        if (!ReferenceEquals(services, _indexed))
        {
            // Rebuilt by the one thread that reads connections, and only when a connection comes after a sync.
            var index = new Dictionary<(IPAddress, int, string), ServicePortState>();
            foreach (ServicePortState s in services)
            {
                foreach (string ip in (string[])[s.ClusterIp, .. s.ExternalIps, .. s.LoadBalancerIps])
                {
                    if (IPAddress.TryParse(ip, out IPAddress? parsed))
                    {
                        index[(parsed, s.Port, s.Protocol)] = s;
                    }
                }
            }

            _byAddress = index;
            _indexed = services;
        }

        return _byAddress.GetValueOrDefault((address, port, protocol));
    }

    /// <summary>Records one event and counts it.</summary>
    internal void Record(
        string protocol, string kind, IPEndPoint client, IPEndPoint destination, string? service, IPEndPoint? endpoint, string verdict,
        TimeSpan? duration = null, FlowCounters? counters = null, string source = "conntrack")
    {
        (client, destination, endpoint) = (IPv4(client)!, IPv4(destination)!, IPv4(endpoint));
        lock (_lock)
        {
            long sequence = _next;
            _events[(int)(sequence % _events.Length)] = new ConnectionTraceEvent(
                sequence, _time.GetUtcNow(), protocol, kind, client, destination, service, endpoint, verdict, duration, counters, _node, source);
            Volatile.Write(ref _next, sequence + 1);
        }

        if (service is null || _flows is null || _endpoints is null)
        {
            return;
        }

        int slash = service.IndexOf('/', StringComparison.Ordinal);
        int colon = service.IndexOf(':', slash + 1);
        var ns = new KeyValuePair<string, object?>("namespace", service[..slash]);
        var name = new KeyValuePair<string, object?>("service", colon < 0 ? service[(slash + 1)..] : service[(slash + 1)..colon]);
        if (kind != ConnectionTraceEvent.Closed || verdict == ConnectionTraceEvent.TimedOut)
        {
            _flows.Add(1, ns, name, new KeyValuePair<string, object?>("verdict", verdict));
        }

        if (kind == ConnectionTraceEvent.Opened && endpoint is not null)
        {
            _endpoints.Add(1, ns, name, new KeyValuePair<string, object?>("endpoint", endpoint.ToString()));
        }
    }

    /// <summary>An IPv4-mapped address (a dual-stack socket's peer) as the IPv4 address pods and services have.</summary>
    private static IPEndPoint? IPv4(IPEndPoint? address) =>
        address is { Address.IsIPv4MappedToIPv6: true } ? new IPEndPoint(address.Address.MapToIPv4(), address.Port) : address;

    /// <summary>
    /// The events among up to <paramref name="max"/> from <paramref name="from"/> on, oldest first, that <paramref name="about"/>
    /// selects by the service dialled (all when null); see <see cref="ITraceRing.WriteJson"/>.
    /// </summary>
    public IReadOnlyList<ConnectionTraceEvent> Read(long from, int max, TraceSelection? about, out long next, out long lost)
    {
        var events = new List<ConnectionTraceEvent>();
        lock (_lock)
        {
            lost = 0;
            if (_next - from > _events.Length)
            {
                lost = _next - _events.Length - from;
                from = _next - _events.Length;
            }

            for (next = from; next < _next && next - from < max; next++)
            {
                ConnectionTraceEvent e = _events[(int)(next % _events.Length)]!;
                if (about is null || about.IsAboutService(e.Service))
                {
                    events.Add(e);
                }
            }
        }

        if (lost > 0)
        {
            Interlocked.Add(ref _lost, lost);
        }

        return events;
    }

    public int WriteJson(long from, int max, TraceSelection? about, IBufferWriter<byte> output, out long next, out long lost)
        => TraceJson.WriteLines(Read(from, max, about, out next, out lost), output);
}
