using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Switchboard.Dns.Trace;
using Switchboard.Dns.Wire;
using Switchboard.Kube.Metrics;

namespace Switchboard.Dns.Operations;

/// <summary>
/// The DNS server's Prometheus metrics: requests by query type and response code, request duration, forwarder
/// cache hits and misses, and DNS programming latency (an object's change reaching the answers). Counting a
/// request is a few interlocked adds on arrays; nothing is allocated per query. The counters stay this hand-written,
/// per-thread striped shape on the query path and join the process's <see cref="MetricsRegistry"/> as a collector.
/// </summary>
public sealed class DnsMetrics : IMetricsCollector
{
    private static readonly DnsRecordType[] Types =
        [DnsRecordType.A, DnsRecordType.AAAA, DnsRecordType.SRV, DnsRecordType.PTR, DnsRecordType.TXT, DnsRecordType.CNAME, DnsRecordType.SOA, DnsRecordType.NS, DnsRecordType.ANY];

    private static readonly string[] Codes = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

    private static readonly double[] RequestBounds = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    private static readonly double[] ProgrammingBounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Per-thread stripes (by managed thread id), so the UDP threads on different cores never share a counter's cache line.</summary>
    private const int StripeCount = 16;

    private readonly Stripe[] _stripes = [.. Enumerable.Range(0, StripeCount).Select(_ => new Stripe())];
    private readonly Dictionary<string, Histogram> _programming = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private Func<(long Hits, long Misses)>? _cache;
    private DnsTraceBuffer? _trace;

    /// <summary>Counts one answered request from its response message (question type and rcode read from it).</summary>
    public void CountRequest(ReadOnlySpan<byte> response, TimeSpan duration)
    {
        ObserveDuration(duration, 1);
        CountAnswer(response);
    }

    /// <summary>Observes <paramref name="count"/> requests that took <paramref name="duration"/> each (one UDP batch's).</summary>
    internal void ObserveDuration(TimeSpan duration, int count) =>
        _stripes[Environment.CurrentManagedThreadId & (StripeCount - 1)].Duration.Observe(duration, count);

    /// <summary>Counts one answered request by question type and rcode, read from its response message; its duration is observed apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void CountAnswer(ReadOnlySpan<byte> response)
    {
        Stripe stripe = _stripes[Environment.CurrentManagedThreadId & (StripeCount - 1)];
        if (response.Length < DnsHeader.Size)
        {
            return;
        }

        int code = Math.Min(response[3] & 0xF, Codes.Length);
        int type = Types.Length;
        if (BinaryPrimitives.ReadUInt16BigEndian(response[4..]) == 1 && DnsName.TrySkip(response, DnsHeader.Size, out int end) && end + 2 <= response.Length)
        {
            var qtype = (DnsRecordType)BinaryPrimitives.ReadUInt16BigEndian(response[end..]);
            int index = Array.IndexOf(Types, qtype);
            type = index >= 0 ? index : Types.Length;
        }

        Interlocked.Increment(ref stripe.Requests[(type * (Codes.Length + 1)) + code]);
    }

    /// <summary>The presentation name of a (4-bit) response code.</summary>
    internal static string CodeName(int code) => code < Codes.Length ? Codes[code] : code.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>How long a change took from arriving to being answered, by what changed (service, endpointslice, …).</summary>
    public void ObserveProgramming(string kind, TimeSpan latency)
    {
        Histogram histogram;
        lock (_gate)
        {
            if (!_programming.TryGetValue(kind, out histogram!))
            {
                histogram = new Histogram(ProgrammingBounds);
                _programming[kind] = histogram;
            }
        }

        histogram.Observe(latency);
    }

    public long ProgrammingCount(string kind)
    {
        lock (_gate)
        {
            return _programming.TryGetValue(kind, out Histogram? histogram) ? histogram.Count : 0;
        }
    }

    internal void TrackCache(Func<(long Hits, long Misses)> cache) => _cache = cache;

    internal void TrackTrace(DnsTraceBuffer trace) => _trace = trace;

    /// <summary>Prometheus text exposition format 0.0.4.</summary>
    public void WriteTo(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write("# HELP switchboard_dns_requests_total DNS requests answered, by query type and response code.\n");
        writer.Write("# TYPE switchboard_dns_requests_total counter\n");
        for (int t = 0; t <= Types.Length; t++)
        {
            for (int c = 0; c <= Codes.Length; c++)
            {
                long count = RequestCount((t * (Codes.Length + 1)) + c);
                if (count > 0)
                {
                    string type = t < Types.Length ? Types[t].ToString() : "other";
                    string code = c < Codes.Length ? Codes[c] : "other";
                    writer.Write($"switchboard_dns_requests_total{{type=\"{type}\",rcode=\"{code}\"}} {count}\n");
                }
            }
        }

        writer.Write("# HELP switchboard_dns_request_duration_seconds Time from a query's arrival to its answer being ready.\n");
        writer.Write("# TYPE switchboard_dns_request_duration_seconds histogram\n");
        Histogram.WriteMerged([.. _stripes.Select(s => s.Duration)], writer, "switchboard_dns_request_duration_seconds", string.Empty);

        (long hits, long misses) = _cache?.Invoke() ?? (0, 0);
        writer.Write("# HELP switchboard_dns_cache_hits_total Forwarded queries answered from the cache.\n");
        writer.Write("# TYPE switchboard_dns_cache_hits_total counter\n");
        writer.Write($"switchboard_dns_cache_hits_total {hits}\n");
        writer.Write("# HELP switchboard_dns_cache_misses_total Forwarded queries that went upstream.\n");
        writer.Write("# TYPE switchboard_dns_cache_misses_total counter\n");
        writer.Write($"switchboard_dns_cache_misses_total {misses}\n");

        writer.Write("# HELP switchboard_dns_trace_lost_events_total Trace events readers missed because the trace buffer moved on first.\n");
        writer.Write("# TYPE switchboard_dns_trace_lost_events_total counter\n");
        writer.Write($"switchboard_dns_trace_lost_events_total {_trace?.Lost ?? 0}\n");

        writer.Write("# HELP switchboard_dns_programming_duration_seconds DNS programming latency: from a Kubernetes change reaching the server to the answers changing.\n");
        writer.Write("# TYPE switchboard_dns_programming_duration_seconds histogram\n");
        KeyValuePair<string, Histogram>[] programming;
        lock (_gate)
        {
            programming = [.. _programming];
        }

        foreach ((string kind, Histogram histogram) in programming.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            histogram.WriteTo(writer, "switchboard_dns_programming_duration_seconds", $"kind=\"{kind}\",");
        }
    }

    private long RequestCount(int index) => _stripes.Sum(s => Interlocked.Read(ref s.Requests[index]));

    private sealed class Stripe
    {
        /// <summary>[type index (last: other)] × [rcode index (last: other)].</summary>
        public long[] Requests { get; } = new long[(Types.Length + 1) * (Codes.Length + 1)];

        public Histogram Duration { get; } = new(RequestBounds);
    }
}
