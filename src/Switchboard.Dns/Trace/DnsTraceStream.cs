using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Switchboard.Dns.InCluster;

namespace Switchboard.Dns.Trace;

/// <summary>
/// <c>GET /trace</c> on the DNS server's operations port: the trace buffer as NDJSON, one event per line
/// (docs/trace.md). <c>?last=N</c> starts N events back (default: everything kept, or nothing new when following);
/// <c>?follow=true</c> keeps the response open and tails the buffer. A reader too slow for the queries gets a
/// <c>{"type":"lost",…}</c> line saying how many events it missed; the server never waits for it.
/// </summary>
public static class DnsTraceStream
{
    public const string Path = "/trace";

    /// <summary>How the API server's <c>services/…/proxy</c> names DNS's operations port: kube-dns's <c>metrics</c> port, by name or number.</summary>
    public static readonly IReadOnlyList<string> ServiceProxyKeys =
    [
        $"{KubeDnsRegistration.Namespace}/{KubeDnsRegistration.Name}:{KubeDnsRegistration.MetricsPortName}",
        $"{KubeDnsRegistration.Namespace}/{KubeDnsRegistration.Name}:{KubeDnsRegistration.MetricsPort}",
    ];

    /// <summary>How often a follower looks for new events when it has caught up.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    private const int Batch = 256;

    public static async Task ServeAsync(HttpContext http, DnsTraceBuffer trace, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(time);
        CancellationToken aborted = http.RequestAborted;
        IQueryCollection query = http.Request.Query;
        bool follow = query["follow"] is [{ } f] && (f == "1" || f.Equals("true", StringComparison.OrdinalIgnoreCase));
        long? last = null;
        if (query["last"] is [{ } text])
        {
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n))
            {
                await BadRequestAsync(http, $"last: \"{text}\" is not a non-negative integer");
                return;
            }

            last = n;
        }

        long head = trace.Head;
        long from = last is { } count ? Math.Max(0, head - count) : follow ? head : 0;
        http.Response.ContentType = "application/x-ndjson";
        await http.Response.StartAsync(aborted);
        var output = new NdjsonWriter(http.Response.Body);
        try
        {
            while (true)
            {
                IReadOnlyList<DnsTraceEvent> events = trace.Read(from, Batch, out from, out long lost);
                if (lost > 0)
                {
                    output.Lost(lost, time.GetUtcNow());
                }

                foreach (DnsTraceEvent e in events)
                {
                    output.Event(e);
                }

                await output.FlushAsync(aborted);
                if (events.Count == Batch || (lost > 0 && events.Count > 0))
                {
                    continue;
                }

                if (!follow && from >= head)
                {
                    return;
                }

                if (follow)
                {
                    await Task.Delay(Poll, time, aborted);
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The reader went away.
        }
    }

    private static async Task BadRequestAsync(HttpContext http, string message)
    {
        http.Response.StatusCode = StatusCodes.Status400BadRequest;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(
            JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Failure", ["message"] = message, ["reason"] = "BadRequest", ["code"] = 400,
            }),
            http.RequestAborted);
    }

    /// <summary>Lines written into one buffer and sent with one write per batch.</summary>
    private sealed class NdjsonWriter(Stream body)
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);

        public void Event(DnsTraceEvent e)
        {
            using (var writer = new Utf8JsonWriter(_buffer))
            {
                e.WriteTo(writer);
            }

            _buffer.Write("\n"u8);
        }

        public void Lost(long count, DateTimeOffset now)
        {
            using (var writer = new Utf8JsonWriter(_buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("type", "lost");
                writer.WriteString("time", now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
                writer.WriteNumber("lost", count);
                writer.WriteEndObject();
            }

            _buffer.Write("\n"u8);
        }

        public async Task FlushAsync(CancellationToken cancellationToken)
        {
            if (_buffer.WrittenCount > 0)
            {
                await body.WriteAsync(_buffer.WrittenMemory, cancellationToken);
                _buffer.ResetWrittenCount();
            }

            await body.FlushAsync(cancellationToken);
        }
    }
}
