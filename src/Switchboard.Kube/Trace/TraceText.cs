using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Switchboard.Kube.Trace;

/// <summary>
/// One line per trace event for people: time, client (pod and address), what was asked, where the answer came
/// from, the verdict, the answer and the latency. Each search-path attempt of a lookup is its own line.
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
        line.Append(time).Append(' ');
        JsonNode? client = e["client"];
        string address = client is null ? "?" : FormattableString.Invariant($"{(string?)client["ip"]}:{(int?)client["port"]}");
        line.Append(client?["pod"] is JsonNode pod ? $"{(string?)pod["namespace"]}/{(string?)pod["name"]} ({address})" : address);
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
}
