using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Switchboard.Kube.Trace;

/// <summary>
/// One line per trace event for people: time, client (pod and address), what was asked, where the answer came
/// from, the verdict, the answer and the latency. Each search-path attempt of a lookup is its own line; a connection
/// shows the service it dialled, the endpoint pod it was sent to and, at its end, its duration and bytes.
/// </summary>
public static class TraceText
{
    public static string Format(JsonObject e)
    {
        ArgumentNullException.ThrowIfNull(e);
        string time = DateTimeOffset.TryParse((string?)e["time"], CultureInfo.InvariantCulture, out DateTimeOffset parsed)
            ? parsed.UtcDateTime.ToString("HH:mm:ss.ffffff", CultureInfo.InvariantCulture)
            : (string?)e["time"] ?? "?";
        if ((string?)e["type"] == "lost")
        {
            return $"{time} EVENTS LOST: {(long?)e["lost"]} (this reader fell behind the server's trace buffer)";
        }

        var line = new StringBuilder();
        line.Append(time).Append(' ').Append(Address(e["client"]));
        if ((string?)e["type"] != "dns")
        {
            return Connection(line, e);
        }

        line.Append(" DNS ").Append((string?)e["qtype"]).Append(' ').Append((string?)e["name"]);
        line.Append(" from ").Append((string?)e["source"]);
        if ((string?)e["skydnsKey"] is { } key)
        {
            line.Append(' ').Append(key);
        }

        if ((string?)e["upstream"] is { } upstream)
        {
            line.Append(' ').Append(upstream);
        }

        line.Append(": ").Append((string?)e["verdict"]);
        if (e["answers"] is JsonArray { Count: > 0 } answers)
        {
            line.Append(' ').AppendJoin(", ", answers.Select(a => $"{(string?)a?["type"]} {(string?)a?["data"]}"));
        }

        line.Append(' ').Append(((double?)e["latencyMs"] ?? 0).ToString("0.###", CultureInfo.InvariantCulture)).Append("ms");
        return line.ToString();
    }

    /// <summary>
    /// <c>TCP open -&gt; NS/SVC (IP:PORT) =&gt; NS/POD (IP:PORT): FORWARDED</c>; a close adds the duration and the bytes and
    /// packets each way, a rejection says why.
    /// </summary>
    private static string Connection(StringBuilder line, JsonObject e)
    {
        line.Append(' ').Append(((string?)e["type"])?.ToUpperInvariant()).Append(' ').Append((string?)e["event"]);
        JsonNode? destination = e["destination"];
        string dialled = FormattableString.Invariant($"{(string?)destination?["ip"]}:{(int?)destination?["port"]}");
        line.Append(" -> ").Append(e["service"] is JsonNode service ? $"{(string?)service["namespace"]}/{(string?)service["name"]} ({dialled})" : dialled);
        if (e["endpoint"] is JsonNode endpoint)
        {
            line.Append(" => ").Append(Address(endpoint));
        }

        line.Append(": ").Append((string?)e["verdict"]);
        if ((string?)e["verdict"] == "REJECTED")
        {
            line.Append(" (no endpoints)");
        }

        if ((double?)e["durationMs"] is { } duration)
        {
            line.Append(' ').Append(duration.ToString("0.###", CultureInfo.InvariantCulture)).Append("ms");
        }

        if (e["bytes"] is JsonNode bytes)
        {
            JsonNode? packets = e["packets"];
            line.Append(CultureInfo.InvariantCulture, $" sent {(long?)bytes["sent"]} B{(packets is null ? "" : $"/{(long?)packets["sent"]} pkts")}");
            line.Append(CultureInfo.InvariantCulture, $", received {(long?)bytes["received"]} B{(packets is null ? "" : $"/{(long?)packets["received"]} pkts")}");
        }

        return line.ToString();
    }

    /// <summary><c>NS/POD (IP:PORT)</c>, or the address alone when it is no pod's.</summary>
    private static string Address(JsonNode? end)
    {
        string address = end is null ? "?" : FormattableString.Invariant($"{(string?)end["ip"]}:{(int?)end["port"]}");
        return end?["pod"] is JsonNode pod ? $"{(string?)pod["namespace"]}/{(string?)pod["name"]} ({address})" : address;
    }
}
