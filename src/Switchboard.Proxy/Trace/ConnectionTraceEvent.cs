using System.Globalization;
using System.Net;
using System.Text.Json;
using Switchboard.Kube.Trace;

namespace Switchboard.Proxy.Trace;

/// <summary>
/// One step of a connection to a service as <c>switchboard trace</c> shows it (docs/trace.md): <c>open</c> (the
/// endpoint the proxy's rules or relay chose), <c>close</c> (duration, bytes and packets where conntrack accounting
/// gives them) or <c>rejected</c> (a service without endpoints refused it).
/// </summary>
public sealed record ConnectionTraceEvent(
    long Sequence,
    DateTimeOffset Time,
    string Protocol,
    string Event,
    IPEndPoint Client,
    IPEndPoint Destination,
    string? Service,
    IPEndPoint? Endpoint,
    string Verdict,
    TimeSpan? Duration = null,
    FlowCounters? Counters = null,
    string? Node = null,
    string Source = "conntrack") : ITraceEvent
{
    public const string Opened = "open";
    public const string Closed = "close";
    public const string Rejected = "rejected";

    public const string Forwarded = "FORWARDED";
    public const string Refused = "REJECTED";
    public const string TimedOut = "TIMEOUT";

    /// <summary>One JSON object, no newline.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("type", Protocol);
        writer.WriteString("event", Event);
        writer.WriteNumber("sequence", Sequence);
        writer.WriteString("time", TraceStream.FormatTime(Time));
        if (Node is not null)
        {
            writer.WriteString("node", Node);
        }

        writer.WriteString("source", Source);
        Address(writer, "client", Client);
        Address(writer, "destination", Destination);
        if (Service is not null)
        {
            // The service port name: namespace/name, plus :port when the port is named.
            int slash = Service.IndexOf('/', StringComparison.Ordinal);
            int colon = Service.IndexOf(':', StringComparison.Ordinal);
            writer.WriteStartObject("service");
            writer.WriteString("namespace", Service[..slash]);
            writer.WriteString("name", colon < 0 ? Service[(slash + 1)..] : Service[(slash + 1)..colon]);
            if (colon >= 0)
            {
                writer.WriteString("port", Service[(colon + 1)..]);
            }

            writer.WriteEndObject();
        }

        if (Endpoint is not null)
        {
            Address(writer, "endpoint", Endpoint);
        }

        writer.WriteString("verdict", Verdict);
        if (Duration is { } duration)
        {
            writer.WriteNumber("durationMs", Math.Round(duration.TotalMilliseconds, 3));
        }

        if (Counters is { } counters)
        {
            writer.WriteStartObject("bytes");
            writer.WriteNumber("sent", counters.BytesSent);
            writer.WriteNumber("received", counters.BytesReceived);
            writer.WriteEndObject();
            if (counters is { PacketsSent: { } packetsSent, PacketsReceived: { } packetsReceived })
            {
                writer.WriteStartObject("packets");
                writer.WriteNumber("sent", packetsSent);
                writer.WriteNumber("received", packetsReceived);
                writer.WriteEndObject();
            }
        }

        writer.WriteEndObject();
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Event} {Protocol} {Client} -> {Destination} ({Service}) -> {Endpoint} {Verdict}");

    private static void Address(Utf8JsonWriter writer, string name, IPEndPoint address)
    {
        writer.WriteStartObject(name);
        writer.WriteString("ip", address.Address.ToString());
        writer.WriteNumber("port", address.Port);
        writer.WriteEndObject();
    }
}

/// <summary>
/// A flow's totals at its end, each way: client to service (sent) and back (received), as conntrack accounts them
/// (packets too), or as the userspace relay copied them (bytes only).
/// </summary>
public sealed record FlowCounters(ulong BytesSent, ulong BytesReceived, ulong? PacketsSent = null, ulong? PacketsReceived = null);
