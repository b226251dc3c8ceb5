using System.Buffers;
using System.Text.Json;

namespace Switchboard.Dns.SkyDns;

/// <summary>
/// One SkyDNS service record, the JSON value SkyDNS, kube2sky and CoreDNS's etcd plugin keep under
/// <c>/skydns/…</c>: <c>host</c> (an address, or a name for a CNAME / SRV target), <c>port</c>,
/// <c>priority</c>, <c>weight</c>, <c>text</c>, <c>ttl</c>, <c>targetstrip</c> and <c>group</c>.
/// </summary>
public sealed record SkyDnsRecord(
    string? Host = null,
    int Port = 0,
    int Priority = 0,
    int Weight = 0,
    string? Text = null,
    uint Ttl = 0,
    int TargetStrip = 0,
    string? Group = null)
{
    /// <summary>Reads a value; null when it is not a JSON object (such keys are ignored, as SkyDNS does).</summary>
    public static SkyDnsRecord? TryParse(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using JsonDocument document = JsonDocument.ParseValue(ref reader);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            return new SkyDnsRecord(
                String(root, "host"),
                Int(root, "port"),
                Int(root, "priority"),
                Int(root, "weight"),
                String(root, "text"),
                (uint)Math.Max(0, Int(root, "ttl")),
                Int(root, "targetstrip"),
                String(root, "group"));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The value as kube2sky wrote it: host, port if set, priority, weight, text if set, ttl, targetstrip, group if set.</summary>
    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (Host is not null)
            {
                writer.WriteString("host", Host);
            }

            if (Port != 0)
            {
                writer.WriteNumber("port", Port);
            }

            writer.WriteNumber("priority", Priority);
            writer.WriteNumber("weight", Weight);
            if (Text is not null)
            {
                writer.WriteString("text", Text);
            }

            writer.WriteNumber("ttl", Ttl);
            writer.WriteNumber("targetstrip", TargetStrip);
            if (Group is not null)
            {
                writer.WriteString("group", Group);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int Int(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number) ? number : 0;
}
